// Model names to constructors: the one place that maps a `model:` YAML section to an operator model.
//
//   auto handle = make_operator(config.child("model"), OperatorShape::of(train));
//   handle.model->forward(coords, fields, extras);     // handle.module is what trains and saves
#pragma once

#include "operators/operator_model.h"

#include <torch/nn/module.h>

#include <memory>
#include <string>
#include <vector>

namespace physis::config {
class Section;
}

namespace physis::ops {

struct OperatorHandle {
  std::shared_ptr<torch::nn::Module> module;  // owns the model
  OperatorModel* model = nullptr;             // the same object, seen through the operator interface
  std::string type;
  bool mask_output = false;                   // predictions are multiplied by the geometry mask
  // Field channel whose raw values multiply the predictions (-1: none). The `output_factor: NAME` key of every
  // model: a distance-to-boundary channel makes the prediction vanish on the geometry's boundary (a hard zero
  // Dirichlet condition, as in hard-constraint PINNs), so the network learns u / distance, a function that depends
  // far less on the geometry than u does.
  int64_t output_factor = -1;
};

// Reads `type` and that model's keys from the section (and finishes it). Errors name file, line and column.
OperatorHandle make_operator(const config::Section& section, const OperatorShape& shape);
std::vector<std::string> operator_types();

}  // namespace physis::ops
