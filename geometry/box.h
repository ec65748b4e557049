// Axis-aligned boxes in any dimension: interval (1-D), rectangle (2-D), box (3-D), hypercube (N-D).
//
//   auto square = std::make_shared<Box>(std::vector<double>{-0.5, -0.5}, std::vector<double>{0.5, 0.5});
//   auto cube = Box::hypercube(100000, 0.0, 1.0);
//
// Boundary pieces: x_min, x_max, y_min, y_max, z_min, z_max (x0_min ... above 3-D), renameable.
// distance(): R_m-equivalence of the per-axis ADFs (x - a)(b - x)/(b - a), negative outside; with
// use_product_distance(), their product instead: a polynomial, smooth to every order at the corners too (the
// R_m-equivalence's derivatives above the second grow without bound there), for hard conditions of fourth-order
// equations. Near a face, away from the corners, the product is the distance times the other axes' factors.
// piece_distance(): R_m-equivalence of the named faces' signed distances (x_i - a_i or b_i - x_i): a face's plane
// meets the closed box only in that face, and inside the box it is the exact Euclidean distance to the face. With
// the product distance, the product of the named faces' distances, each divided by the square root of its axis'
// length, and join_distances() multiplies too: however the faces are grouped into conditions, the groups' join is
// the same polynomial, and all faces together give distance().
#pragma once

#include "geometry/pieces.h"

namespace physis::geometry {

class Box : public Primitive {
 public:
  Box(std::vector<double> lower, std::vector<double> upper);
  static std::shared_ptr<Box> hypercube(int64_t dim, double lower, double upper);
  // A 1-D time interval whose ends are called "initial" and "final".
  static std::shared_ptr<Box> time_interval(double t0, double t1);

  int64_t dim() const override { return static_cast<int64_t>(lower_.size()); }
  BoundingBox bounding_box() const override { return {lower_, upper_}; }
  torch::Tensor inside(const torch::Tensor& x) const override;
  torch::Tensor on_boundary(const torch::Tensor& x, double tol = 1e-6) const override;
  torch::Tensor sample_interior(int64_t n, Sampler& sampler) const override;
  BoundaryPoints sample_boundary(int64_t n, Sampler& sampler) const override;
  torch::Tensor distance(const torch::Tensor& x) const override;
  torch::Tensor piece_distance(const torch::Tensor& x, const std::vector<std::string>& pieces) const override;
  torch::Tensor join_distances(const torch::Tensor& phis) const override;
  double measure() const override;
  double boundary_measure() const override;

  // distance() as the product of the per-axis ADFs (see above).
  void use_product_distance(bool on = true) { product_distance_ = on; }
  const std::vector<double>& lower() const { return lower_; }
  const std::vector<double>& upper() const { return upper_; }

 private:
  std::vector<double> lower_, upper_;
  bool product_distance_ = false;
};

}  // namespace physis::geometry
