#include "geometry/adf.h"

#include "geometry/error.h"

#include <cmath>
#include <limits>

namespace physis::geometry {

torch::Tensor safe_sqrt(const torch::Tensor& v) {
  const double tiny = v.scalar_type() == torch::kFloat64 ? 1e-300 : 1e-37;
  return torch::sqrt(v.clamp_min(tiny));
}

torch::Tensor r0_conjunction(const torch::Tensor& a, const torch::Tensor& b) {
  return a + b - safe_sqrt(a * a + b * b);
}

torch::Tensor r0_disjunction(const torch::Tensor& a, const torch::Tensor& b) {
  return a + b + safe_sqrt(a * a + b * b);
}

torch::Tensor r_equivalence(const torch::Tensor& phis, double m) {
  TORCH_CHECK(phis.dim() == 2 && phis.size(1) >= 1, "r_equivalence: expected [N, k] but got ", phis.sizes());
  auto smallest = std::get<0>(phis.min(1));                          // [N]
  auto positive = smallest > 0;                                      // [N]
  // Safe copies for the branch not taken, so that torch::where's backward never multiplies 0 by inf.
  auto s = torch::where(positive, smallest, torch::ones_like(smallest));             // [N]
  auto p = torch::where(positive.unsqueeze(1), phis, torch::ones_like(phis));         // [N, k]
  auto sum = torch::pow(s.unsqueeze(1) / p, m).sum(1);                               // [N], >= 1
  return torch::where(positive, s * torch::pow(sum, -1.0 / m), smallest);
}

torch::Tensor trimmed_adf(const torch::Tensor& f, const torch::Tensor& t) {
  auto varphi = safe_sqrt(t * t + f.pow(4));
  return safe_sqrt(f * f + ((varphi - t) / 2).pow(2));
}

torch::Tensor segments_adf(const torch::Tensor& x, const torch::Tensor& a, const torch::Tensor& b) {
  TORCH_CHECK(x.dim() == 2 && x.size(1) == 2, "segments_adf: expected points [N, 2] but got ", x.sizes());
  auto xx = x.unsqueeze(1);                                           // [N, 1, 2]
  auto d = (b - a).unsqueeze(0);                                      // [1, E, 2]
  auto length = torch::linalg_vector_norm(d, 2, {-1});                // [1, E]
  auto r = xx - a.unsqueeze(0);                                       // [N, E, 2]
  auto f = (r.select(-1, 0) * d.select(-1, 1) - r.select(-1, 1) * d.select(-1, 0)) / length;  // [N, E]
  auto from_mid = xx - ((a + b) / 2).unsqueeze(0);                    // [N, E, 2]
  auto t = ((length / 2).pow(2) - from_mid.pow(2).sum(-1)) / length;  // [N, E]
  return trimmed_adf(f, t);
}

torch::Tensor segment_adf(const torch::Tensor& x, const Point2& a, const Point2& b) {
  auto opts = x.options();
  auto ta = torch::tensor({a[0], a[1]}, opts.dtype(torch::kFloat64)).to(opts).reshape({1, 2});
  auto tb = torch::tensor({b[0], b[1]}, opts.dtype(torch::kFloat64)).to(opts).reshape({1, 2});
  return segments_adf(x, ta, tb).squeeze(1);
}

torch::Tensor arc_adf(const torch::Tensor& x, const Arc& arc) {
  TORCH_CHECK(x.dim() == 2 && x.size(1) == 2, "arc_adf: expected points [N, 2] but got ", x.sizes());
  if (!(arc.radius > 0) || !(arc.sweep > 0) || !(arc.sweep < 2 * M_PI))
    throw GeometryError("arc_adf: an arc needs radius > 0 and 0 < sweep < 2 pi (use a disk for a full circle)");
  const auto [cx, cy] = arc.center;
  const double r = arc.radius;
  // The supporting circle's normalised ADF, positive inside it.
  auto dx = x.select(1, 0) - cx, dy = x.select(1, 1) - cy;
  auto f = (r * r - dx * dx - dy * dy) / (2 * r);                                       // [N]
  // The arc is the part of the circle on one side of its chord; t is the signed distance to the chord.
  const double a0 = arc.start, a1 = arc.start + arc.sweep, am = arc.start + arc.sweep / 2;
  const double px = cx + r * std::cos(a0), py = cy + r * std::sin(a0);
  const double qx = cx + r * std::cos(a1), qy = cy + r * std::sin(a1);
  const double length = std::hypot(qx - px, qy - py);
  auto side = [&](double ux, double uy) { return ((ux - px) * (qy - py) - (uy - py) * (qx - px)) / length; };
  const double sign = side(cx + r * std::cos(am), cy + r * std::sin(am)) >= 0 ? 1.0 : -1.0;
  auto t = sign * ((x.select(1, 0) - px) * (qy - py) - (x.select(1, 1) - py) * (qx - px)) / length;  // [N]
  return trimmed_adf(f, t);
}

torch::Tensor product_distance(const torch::Tensor& phis) {
  TORCH_CHECK(phis.dim() == 2 && phis.size(1) > 0, "product_distance: expected phis [N, k] but got ", phis.sizes());
  auto out = phis.select(1, 0);
  for (int64_t i = 1; i < phis.size(1); ++i) out = out * phis.select(1, i);
  return out;
}

torch::Tensor transfinite_interpolation(const torch::Tensor& phis, const torch::Tensor& values, double mu) {
  TORCH_CHECK(phis.dim() == 2 && values.sizes() == phis.sizes(),
              "transfinite_interpolation: expected phis and values [N, k] of one shape but got ", phis.sizes(),
              " and ", values.sizes());
  // w_i = (phi_min / phi_i)^mu / sum_j (phi_min / phi_j)^mu: the piece the point lies on gets weight 1.
  auto abs_phis = phis.abs();                                                         // [N, k]
  auto smallest = std::get<0>(abs_phis.min(1, /*keepdim=*/true));                     // [N, 1]
  auto tiny = phis.scalar_type() == torch::kFloat64 ? 1e-300 : 1e-37;
  auto ratio = torch::pow(smallest / abs_phis.clamp_min(tiny), mu);                   // [N, k]
  auto at_min = abs_phis == smallest;                                                 // [N, k]
  ratio = torch::where(at_min, torch::ones_like(ratio), ratio);
  auto weights = ratio / ratio.sum(1, true);                                          // [N, k]
  return (weights * values).sum(1);
}

}  // namespace physis::geometry
