// Forward-mode (Taylor) propagation of derivatives through a network.
//
// Nested reverse mode (grad of grad) builds a second backward graph per derivative; forward mode pushes the value
// and its first and second directional derivatives through each layer once, so a Laplacian costs one wider forward
// pass and one ordinary backward pass. For direction v_k and network u:
//   first[k]  = d u(x + s v_k)/ds        at s = 0
//   second[k] = d^2 u(x + s v_k)/ds^2    at s = 0      (per-direction mode), or
//   second[0] = sum_k second[k]                        (summed mode: the Laplacian for unit coordinate directions)
// Through y = x W^T + b:  first, second -> first W^T, second W^T.
// Through y = f(x):       first -> f'(x) first;  second -> f'(x) second + f''(x) first^2 (summed over k if summed).
// Jets of order 3 and 4 (per-direction mode only) also carry third[k] and fourth[k], the third and fourth
// derivatives along v_k:
//   third  -> f' third + 3 f'' first second + f''' first^3,
//   fourth -> f' fourth + f'' (4 first third + 3 second^2) + 6 f''' first^2 second + f'''' first^4.
#pragma once

#include <torch/types.h>

#include <vector>

namespace physis {

struct Jet {
  torch::Tensor value;   // [N, w]
  torch::Tensor first;   // [K, N, w]; N may be 1 (broadcast) where it does not depend on the point
  torch::Tensor second;  // [K, N, w] per direction, [1, N, w] summed; undefined means zero
  torch::Tensor third;   // [K, N, w] when order >= 3; undefined means zero
  torch::Tensor fourth;  // [K, N, w] when order == 4; undefined means zero
  bool summed = false;
  int order = 2;         // the highest derivative carried: 2, 3 or 4
  // [K] long, set by along_axes: first[k] is zero except in column axes[k] (a scaled unit seed). jet_linear then
  // gathers K columns of the weight instead of multiplying by [K, d] one-hot rows: O(K w) instead of O(K d w), which
  // is what keeps a few sampled axes of a 10^5-dimensional input cheap. Operations that mix columns drop it.
  torch::Tensor axes;

  // Seeds a jet at points x [N, d] along directions [K, d] (rows need not be unit vectors).
  // order: the highest derivative to carry, 2, 3 or 4 (above 2 per direction only).
  static Jet seed(const torch::Tensor& x, const torch::Tensor& directions, bool summed, int order = 2);
  // Seeds along the coordinate axes listed in dims (all axes when empty).
  static Jet along_axes(const torch::Tensor& x, const std::vector<int64_t>& dims, bool summed, int order = 2);

  int64_t num_directions() const { return first.size(0); }
  // Sum of the second derivatives over all directions: [N, w] (the Laplacian for coordinate axes).
  torch::Tensor second_sum() const;
  // Second derivative along direction k: [N, w] (per-direction mode only).
  torch::Tensor second_at(int64_t k) const;
  torch::Tensor first_at(int64_t k) const;  // [N, w]
  torch::Tensor third_at(int64_t k) const;   // [N, w] (jets of order >= 3)
  torch::Tensor fourth_at(int64_t k) const;  // [N, w] (jets of order 4)
};

// y = x W^T + b for weight [out, in] and bias [out] (may be undefined).
Jet jet_linear(const Jet& x, const torch::Tensor& weight, const torch::Tensor& bias);
// y = f(x) elementwise, given f(x) and its derivatives at x.value up to the jet's order (d3f, d4f undefined below).
Jet jet_elementwise(const Jet& x, const torch::Tensor& f, const torch::Tensor& df, const torch::Tensor& d2f,
                    const torch::Tensor& d3f = {}, const torch::Tensor& d4f = {});
// Product rule: y = a * b (broadcasting over the feature axis as tensors do).
Jet jet_mul(const Jet& a, const Jet& b);
Jet jet_add(const Jet& a, const Jet& b);
// Selects feature columns [start, start + length) of every part.
Jet jet_narrow(const Jet& x, int64_t start, int64_t length);
// Concatenates along the feature axis.
Jet jet_cat(const std::vector<Jet>& parts);
// y = (x - shift) * scale with per-feature shift and scale [w].
Jet jet_affine(const Jet& x, const torch::Tensor& shift, const torch::Tensor& scale);

}  // namespace physis
