#include "geometry/ellipse.h"

#include "geometry/error.h"
#include "geometry/sampling_util.h"

#include <cmath>

namespace physis::geometry {

Ellipse::Ellipse(std::vector<double> center, double semi_a, double semi_b, double angle)
    : Primitive({"ellipse"}), center_(std::move(center)), a_(semi_a), b_(semi_b), angle_(angle) {
  if (center_.size() != 2) throw GeometryError("an ellipse is 2-D: its center needs 2 coordinates");
  if (!(a_ > 0 && b_ > 0)) throw GeometryError("an ellipse needs semi-axes > 0");
}

BoundingBox Ellipse::bounding_box() const {
  const double c = std::cos(angle_), s = std::sin(angle_);
  const double hx = std::hypot(a_ * c, b_ * s), hy = std::hypot(a_ * s, b_ * c);
  return {{center_[0] - hx, center_[1] - hy}, {center_[0] + hx, center_[1] + hy}};
}

torch::Tensor Ellipse::to_local(const torch::Tensor& x) const {
  const double c = std::cos(angle_), s = std::sin(angle_);
  auto dx = x.select(1, 0) - center_[0], dy = x.select(1, 1) - center_[1];
  return torch::stack({c * dx + s * dy, -s * dx + c * dy}, 1);
}

torch::Tensor Ellipse::to_global(const torch::Tensor& u) const {
  const double c = std::cos(angle_), s = std::sin(angle_);
  auto ux = u.select(1, 0), uy = u.select(1, 1);
  return torch::stack({c * ux - s * uy, s * ux + c * uy}, 1);
}

torch::Tensor Ellipse::quadratic(const torch::Tensor& x) const {
  auto u = to_local(x);
  return (u.select(1, 0) / a_).pow(2) + (u.select(1, 1) / b_).pow(2);
}

torch::Tensor Ellipse::inside(const torch::Tensor& x) const {
  check_points(x, 2, "Ellipse::inside");
  return quadratic(x) <= 1 + 1e-12;  // closed, forgiving rounding of points computed on the curve
}

torch::Tensor Ellipse::on_boundary(const torch::Tensor& x, double tol) const {
  check_points(x, 2, "Ellipse::on_boundary");
  // First-order distance |q - 1| / |grad q|, accurate within tol of the curve.
  auto u = to_local(x);
  auto grad = 2 * torch::sqrt((u.select(1, 0) / (a_ * a_)).pow(2) + (u.select(1, 1) / (b_ * b_)).pow(2));
  return (quadratic(x) - 1).abs() <= tol * grad;
}

torch::Tensor Ellipse::sample_interior(int64_t n, Sampler& sampler) const {
  auto u = sampler.uniform(n, 2);                                                   // [n, 2]
  auto r = torch::sqrt(u.select(1, 0));
  auto theta = 2 * M_PI * u.select(1, 1);
  auto local = torch::stack({a_ * r * torch::cos(theta), b_ * r * torch::sin(theta)}, 1);  // [n, 2]
  return to_global(local) + to_tensor(center_, sampler.options());
}

BoundaryPoints Ellipse::sample_boundary(int64_t n, Sampler& sampler) const {
  // theta uniform, accepted with probability speed(theta) / max speed: uniform by arc length.
  auto propose = [&](int64_t m) {
    auto u = sampler.uniform(m, 2);                                                 // [m, 2]
    auto theta = 2 * M_PI * u.select(1, 0);
    auto speed = torch::sqrt((a_ * torch::sin(theta)).pow(2) + (b_ * torch::cos(theta)).pow(2));
    auto keep = u.select(1, 1) * std::max(a_, b_) <= speed;                         // [m]
    auto local = torch::stack({a_ * torch::cos(theta), b_ * torch::sin(theta)}, 1);  // [m, 2]
    auto local_normal = torch::stack({b_ * torch::cos(theta), a_ * torch::sin(theta)}, 1);
    local_normal = local_normal / torch::linalg_vector_norm(local_normal, 2, {1}, true);
    auto points = to_global(local) + to_tensor(center_, sampler.options());
    // The acceptance flag rides along in the piece slot until filtering.
    return BoundaryPoints{points, to_global(local_normal), keep.to(torch::kLong), {}};
  };
  auto kept = accept_until(n, 2, propose, [](const BoundaryPoints& b) { return b.piece == 1; }, "Ellipse boundary");
  return make_boundary(kept.points, kept.normals, torch::zeros_like(kept.piece));
}

torch::Tensor Ellipse::distance(const torch::Tensor& x) const {
  check_points(x, 2, "Ellipse::distance");
  return (1 - quadratic(x)) * std::min(a_, b_) / 2;
}

double Ellipse::measure() const { return M_PI * a_ * b_; }

double Ellipse::boundary_measure() const {
  // Trapezoidal rule on the periodic speed |r'(theta)|: converges exponentially, exact to rounding here.
  const int steps = 4096;
  double sum = 0;
  for (int i = 0; i < steps; ++i) {
    const double theta = 2 * M_PI * i / steps;
    sum += std::hypot(a_ * std::sin(theta), b_ * std::cos(theta));
  }
  return 2 * M_PI * sum / steps;
}

}  // namespace physis::geometry
