// Balls in any dimension: disk (2-D), ball (3-D), hyperball (N-D, N up to 1e5 and beyond).
//
//   auto disk = std::make_shared<Ball>(std::vector<double>{0.3, 0.3}, 0.1);
//
// Interior points are c + r u^(1/N) g/|g| with g standard normal, so sampling cost is O(n N) in any dimension
// (no bounding-box rejection, whose acceptance collapses like 1/N!). One boundary piece: "circle" in 2-D,
// "sphere" otherwise. distance() = (r^2 - |x - c|^2) / (2r): smooth, unit slope on the sphere, negative outside.
#pragma once

#include "geometry/pieces.h"

namespace physis::geometry {

class Ball : public Primitive {
 public:
  Ball(std::vector<double> center, double radius);
  static std::shared_ptr<Ball> hyperball(int64_t dim, double radius, double center = 0.0);

  int64_t dim() const override { return static_cast<int64_t>(center_.size()); }
  BoundingBox bounding_box() const override;
  torch::Tensor inside(const torch::Tensor& x) const override;
  torch::Tensor on_boundary(const torch::Tensor& x, double tol = 1e-6) const override;
  torch::Tensor sample_interior(int64_t n, Sampler& sampler) const override;
  BoundaryPoints sample_boundary(int64_t n, Sampler& sampler) const override;
  torch::Tensor distance(const torch::Tensor& x) const override;
  // May under/overflow to 0 or inf in very high dimension (the unit ball's volume tends to 0).
  double measure() const override;
  double boundary_measure() const override;

  const std::vector<double>& center() const { return center_; }
  double radius() const { return radius_; }

 private:
  torch::Tensor radial(const torch::Tensor& x) const;  // [N] |x - c|
  std::vector<double> center_;
  double radius_;
};

}  // namespace physis::geometry
