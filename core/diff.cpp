#include "core/diff.h"

#include <torch/autograd.h>

#include <algorithm>

namespace physis {

Derivatives::Derivatives(torch::Tensor x, torch::Tensor u) : x_(std::move(x)), u_(std::move(u)) {
  TORCH_CHECK(x_.dim() == 2, "Derivatives: expected inputs [N, d] but got ", x_.sizes());
  TORCH_CHECK(x_.requires_grad(), "Derivatives: the inputs must require grad (call x.requires_grad_(true) first)");
  TORCH_CHECK(u_.dim() == 2 && u_.size(0) == x_.size(0), "Derivatives: expected outputs [", x_.size(0),
              ", m] but got ", u_.sizes());
}

torch::Tensor Derivatives::grad_of(const torch::Tensor& y) {
  if (!y.requires_grad()) return torch::zeros_like(x_);
  auto g = torch::autograd::grad({y}, {x_}, {torch::ones_like(y)}, /*retain_graph=*/true, /*create_graph=*/true,
                                 /*allow_unused=*/true)[0];
  return g.defined() ? g : torch::zeros_like(x_);
}

torch::Tensor Derivatives::value(int64_t out) const { return u_.select(1, out); }

torch::Tensor Derivatives::d(int64_t out, const std::vector<int64_t>& dims) {
  TORCH_CHECK(out >= 0 && out < num_outputs(), "Derivatives: output ", out, " out of range [0, ", num_outputs(), ")");
  if (dims.empty()) return value(out);
  for (auto i : dims)
    TORCH_CHECK(i >= 0 && i < num_inputs(), "Derivatives: input ", i, " out of range [0, ", num_inputs(), ")");
  // Mixed partials commute: order the dimensions so u_xy and u_yx share one cache entry.
  std::vector<int64_t> sorted(dims);
  std::sort(sorted.begin(), sorted.end());
  // The gradient of the derivative of order k-1 gives all derivatives of order k that extend it.
  std::vector<int64_t> key{out};
  key.insert(key.end(), sorted.begin(), sorted.end() - 1);
  auto it = cache_.find(key);
  if (it == cache_.end()) {
    std::vector<int64_t> lower(sorted.begin(), sorted.end() - 1);
    it = cache_.emplace(key, grad_of(d(out, lower))).first;
  }
  return it->second.select(1, sorted.back());
}

torch::Tensor Derivatives::d(int64_t out, int64_t i) { return d(out, std::vector<int64_t>{i}); }

torch::Tensor Derivatives::d(int64_t out, int64_t i, int64_t j) { return d(out, std::vector<int64_t>{i, j}); }

torch::Tensor Derivatives::gradient(int64_t out) {
  d(out, 0);
  return cache_.at({out});
}

torch::Tensor Derivatives::laplacian(int64_t out, const std::vector<int64_t>& dims) {
  torch::Tensor sum;
  auto add = [&](int64_t i) { sum = sum.defined() ? sum + d(out, i, i) : d(out, i, i); };
  if (dims.empty())
    for (int64_t i = 0; i < num_inputs(); ++i) add(i);
  else
    for (auto i : dims) add(i);
  return sum;
}

torch::Tensor Derivatives::divergence(const std::vector<int64_t>& outs, const std::vector<int64_t>& dims) {
  TORCH_CHECK(dims.empty() || dims.size() == outs.size(), "Derivatives::divergence: ", outs.size(),
              " outputs but ", dims.size(), " dimensions");
  torch::Tensor sum;
  for (std::size_t k = 0; k < outs.size(); ++k) {
    auto term = d(outs[k], dims.empty() ? static_cast<int64_t>(k) : dims[k]);
    sum = sum.defined() ? sum + term : term;
  }
  return sum;
}

}  // namespace physis
