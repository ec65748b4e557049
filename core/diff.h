// Differential operators of network outputs with respect to its inputs, by reverse-mode autograd.
//
//   auto x = points.requires_grad_(true);
//   physis::Derivatives d(x, net->forward(x));
//   auto residual = -d.laplacian(0) - f;      // first derivatives are computed once and reused
//   auto u_xy = d.d(0, 0, 1);
// All results are [N] and keep the graph (create_graph), so they can enter a loss.
#pragma once

#include <torch/types.h>

#include <map>
#include <utility>
#include <vector>

namespace physis {

class Derivatives {
 public:
  // x: [N, d] with requires_grad; u: [N, m] computed from x.
  Derivatives(torch::Tensor x, torch::Tensor u);

  int64_t num_inputs() const { return x_.size(1); }
  int64_t num_outputs() const { return u_.size(1); }
  const torch::Tensor& inputs() const { return x_; }
  const torch::Tensor& outputs() const { return u_; }

  torch::Tensor value(int64_t out) const;                       // u_out          [N]
  torch::Tensor d(int64_t out, int64_t i);                      // du_out/dx_i    [N]
  torch::Tensor d(int64_t out, int64_t i, int64_t j);           // d2u_out/dx_i dx_j [N]
  torch::Tensor d(int64_t out, const std::vector<int64_t>& dims);  // any order, e.g. {0, 0, 1}
  torch::Tensor gradient(int64_t out);                          // [N, d]
  torch::Tensor laplacian(int64_t out, const std::vector<int64_t>& dims = {});  // over dims (all when empty)
  torch::Tensor divergence(const std::vector<int64_t>& outs, const std::vector<int64_t>& dims = {});

 private:
  torch::Tensor grad_of(const torch::Tensor& y);  // d(sum y)/dx, [N, d]; zeros when y does not depend on x
  torch::Tensor x_, u_;
  std::map<std::vector<int64_t>, torch::Tensor> cache_;  // key: {out, i, j, ...} -> gradient [N, d] of that derivative
};

}  // namespace physis
