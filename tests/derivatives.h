// Derivatives of a test function by nested reverse-mode autograd, for checks against closed forms and forward mode.
#pragma once

#include <torch/autograd.h>
#include <torch/types.h>

#include <functional>

namespace physis::test {

// d^4/dx_axis^4 of sum(f(x)) at the points `at`, evaluated in `dtype`.
inline double fourth_derivative(const std::function<torch::Tensor(const torch::Tensor&)>& f, const torch::Tensor& at,
                                int64_t axis, torch::Dtype dtype = torch::kFloat64) {
  auto p = at.to(dtype).detach().requires_grad_(true);
  torch::Tensor d = f(p).sum();
  for (int order = 0; order < 4; ++order) d = torch::autograd::grad({d}, {p}, {}, true, true)[0].select(1, axis).sum();
  return d.item<double>();
}

}  // namespace physis::test
