// Precompiled header shared by every physis target: the LibTorch headers nearly every file needs.
// Narrow includes on purpose: <torch/torch.h> pulls in far more than physis uses and slows every build.
#pragma once

#include <torch/types.h>
#include <torch/autograd.h>
#include <torch/nn/cloneable.h>
#include <torch/nn/module.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/init.h>
#include <torch/serialize.h>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>
