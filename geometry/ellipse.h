// A 2-D ellipse with semi-axes a, b, rotated by `angle` radians about its center.
//
// Boundary points are uniform by arc length (angle proposals accepted in proportion to the speed |r'(theta)|).
// Perimeter: trapezoidal rule on the periodic arc-length integrand (exponentially convergent, exact to rounding).
// One boundary piece, "ellipse". distance() = (1 - q) min(a, b) / 2 with q the ellipse's quadratic form:
// smooth and zero on the ellipse, exact for a circle, gradient between 1 and max/min(a, b) on the boundary.
#pragma once

#include "geometry/pieces.h"

namespace physis::geometry {

class Ellipse : public Primitive {
 public:
  Ellipse(std::vector<double> center, double semi_a, double semi_b, double angle = 0.0);

  int64_t dim() const override { return 2; }
  BoundingBox bounding_box() const override;
  torch::Tensor inside(const torch::Tensor& x) const override;
  torch::Tensor on_boundary(const torch::Tensor& x, double tol = 1e-6) const override;
  torch::Tensor sample_interior(int64_t n, Sampler& sampler) const override;
  BoundaryPoints sample_boundary(int64_t n, Sampler& sampler) const override;
  torch::Tensor distance(const torch::Tensor& x) const override;
  double measure() const override;
  double boundary_measure() const override;

  const std::vector<double>& center() const { return center_; }
  double semi_a() const { return a_; }
  double semi_b() const { return b_; }
  double angle() const { return angle_; }

 private:
  torch::Tensor to_local(const torch::Tensor& x) const;    // [N, 2] in the ellipse's axes, center at 0
  torch::Tensor to_global(const torch::Tensor& u) const;   // rotation back to the global axes (no translation)
  torch::Tensor quadratic(const torch::Tensor& x) const;   // [N] q = (u/a)^2 + (v/b)^2
  std::vector<double> center_;
  double a_, b_, angle_;
};

}  // namespace physis::geometry
