// Building blocks shared by the geometries' samplers: weighted choice, uniform simplex points, and
// acceptance-rejection that keeps drawing until it has enough points (or says the domain looks empty).
#pragma once

#include "geometry/geometry.h"

#include <functional>
#include <string>

namespace physis::geometry {

// [n] int64: index i chosen with probability weights[i] / sum, from uniform numbers u [n].
torch::Tensor pick_by_weight(const torch::Tensor& u, const torch::Tensor& weights);

// [n, k + 1] barycentric coordinates uniform on the k-simplex, from uniform numbers u [n, k] (sorted spacings).
torch::Tensor simplex_barycentric(const torch::Tensor& u);

// Draws batches from `propose(m)` and keeps the points where `keep` is true until n are kept. Throws
// GeometryError naming `what` when nothing is accepted (an empty or measure-zero domain).
torch::Tensor accept_until(int64_t n, int64_t dim, const std::function<torch::Tensor(int64_t)>& propose,
                           const std::function<torch::Tensor(const torch::Tensor&)>& keep, const std::string& what);
BoundaryPoints accept_until(int64_t n, int64_t dim, const std::function<BoundaryPoints(int64_t)>& propose,
                            const std::function<torch::Tensor(const BoundaryPoints&)>& keep,
                            const std::string& what);

// Vector of doubles to a [k] tensor with the given options.
torch::Tensor to_tensor(const std::vector<double>& values, const torch::TensorOptions& options);

}  // namespace physis::geometry
