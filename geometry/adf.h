// Approximate distance functions (ADFs) for exact boundary conditions, after Sukumar & Srivastava (2022),
// "Exact imposition of boundary conditions with distance functions in physics-informed deep neural networks".
//
//   auto phi = r_equivalence(torch::stack({segment_adf(x, a, b), arc_adf(x, arc)}, 1));   // [N]
//   auto u = tfi + phi * network(x);   // vanishes to tfi on the boundary
//
// Every function is batched over points x [N, 2], follows x's device and dtype, and keeps first and second
// autograd derivatives finite everywhere except exactly on the zero set (there the square roots are clamped
// so derivatives stay finite rather than NaN).
#pragma once

#include <torch/types.h>

#include <array>
#include <vector>

namespace physis::geometry {

using Point2 = std::array<double, 2>;

// A circular arc from angle `start` counter-clockwise by `sweep` radians (0 < sweep < 2 pi).
struct Arc {
  Point2 center;
  double radius;
  double start;
  double sweep;
};

// R0 conjunction (intersection) and disjunction (union) of signed ADFs (positive inside).
torch::Tensor r0_conjunction(const torch::Tensor& a, const torch::Tensor& b);
torch::Tensor r0_disjunction(const torch::Tensor& a, const torch::Tensor& b);

// R_m-equivalence (phi_1^-m + ... + phi_k^-m)^(-1/m) over the last dimension of phis [N, k]: a smooth minimum
// that is zero where any phi_i is zero and normalised (unit gradient) on the pieces away from their joints.
// Computed relative to the smallest phi so that no 1/0 appears; where the smallest phi is <= 0 (outside a
// signed domain) it returns that smallest phi.
torch::Tensor r_equivalence(const torch::Tensor& phis, double m = 2.0);

// The product over the last dimension of phis [N, k] by repeated multiplication. torch::prod's backward divides the
// product by each factor, and its higher derivatives by powers of the factors: in float32, next to a zero factor
// (a point near an edge) the fourth derivative of a product distance lost all precision (it read 16 instead of
// 5e-8 at 6e-4 from an edge). Products of ADFs take this one.
torch::Tensor product_distance(const torch::Tensor& phis);

// Sukumar & Srivastava eq. (18): the ADF f of a curve trimmed to its part where t >= 0. [N], >= 0, zero exactly
// where f = 0 and t >= 0, ~ |f| near that part away from t = 0, ~ sqrt(f^2 + t^2) near the trimmed-off part.
torch::Tensor trimmed_adf(const torch::Tensor& f, const torch::Tensor& t);

// Normalised ADF of the segment a-b: zero on the segment only, ~ Euclidean distance near it. [N]
torch::Tensor segment_adf(const torch::Tensor& x, const Point2& a, const Point2& b);
// The same for a batch of segments at once: a, b [E, 2]; returns [N, E].
torch::Tensor segments_adf(const torch::Tensor& x, const torch::Tensor& a, const torch::Tensor& b);
// Normalised ADF of a circular arc. [N]
torch::Tensor arc_adf(const torch::Tensor& x, const Arc& arc);

// Transfinite interpolation of boundary data given piecewise: phis [N, k] the pieces' ADFs, values [N, k] each
// piece's data evaluated at x. Returns [N], equal to values[:, i] on piece i, a smooth blend elsewhere.
// Weights are phi_i^-mu / sum_j phi_j^-mu, computed relative to the smallest phi.
torch::Tensor transfinite_interpolation(const torch::Tensor& phis, const torch::Tensor& values, double mu = 1.0);

// sqrt clamped away from zero so that autograd derivatives stay finite on the zero set.
torch::Tensor safe_sqrt(const torch::Tensor& v);

}  // namespace physis::geometry
