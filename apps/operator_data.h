// The data sections of an operator-training configuration, shared by train-operator and predict.
#pragma once

#include "core/config.h"
#include "operators/dataset.h"

#include <string>
#include <utility>

namespace physis::app {

// `key:` is one `data:` section (operators/dataset_io.h) or a list of them whose samples are combined.
ops::Dataset load_operator_data(const config::Section& root, const std::string& key);

// Train and test sets: `split: {train: N, test: M}` over `data` (first N samples, then the next M; default 80/20
// of the samples), or all of `data` and a separate `test_data`.
std::pair<ops::Dataset, ops::Dataset> operator_train_and_test(const config::Section& root);

}  // namespace physis::app
