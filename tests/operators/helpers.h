// Small helpers shared by the operator tests.
#pragma once

#include "core/config.h"
#include "operators/dataset.h"
#include "operators/surrogate.h"

#include <memory>
#include <string>

namespace physis::test {

// A model section from YAML text; error locations read "model.yaml:LINE:COL".
inline config::Section model_yaml(const std::string& text) { return config::Section::load_string(text, "model.yaml"); }

// A surrogate built from a model section for `data`, its normalisers fitted on `data`.
inline std::shared_ptr<ops::Surrogate> fitted_surrogate(const std::string& yaml, const ops::Dataset& data) {
  auto surrogate = std::make_shared<ops::Surrogate>(model_yaml(yaml), ops::OperatorShape::of(data), ops::NormalizerKinds{});
  surrogate->fit_normalizers(data);
  return surrogate;
}

}  // namespace physis::test
