// A spatial domain times a time interval [t0, t1]; time is the last coordinate.
//
//   SpaceTime domain(disk, 0.0, 1.0);
//   auto x = domain.sample_interior(1000, sampler);   // [1000, d + 1]
//   auto x0 = domain.sample_initial(200, sampler);    // [200, d + 1], all with t = t0
//
// Its boundary is the lateral boundary (spatial boundary x [t0, t1]), with the spatial piece names and normals
// (zero time component); the initial slice is sampled by sample_initial() and the final slice is no boundary
// of an evolution problem. distance() is the spatial ADF; initial_distance() = t - t0 for hard initial conditions.
#pragma once

#include "geometry/geometry.h"

namespace physis::geometry {

class SpaceTime : public Geometry {
 public:
  SpaceTime(GeometryPtr space, double t0, double t1);

  int64_t dim() const override { return space_->dim() + 1; }
  BoundingBox bounding_box() const override;
  torch::Tensor inside(const torch::Tensor& x) const override;
  torch::Tensor on_boundary(const torch::Tensor& x, double tol = 1e-6) const override;
  torch::Tensor sample_interior(int64_t n, Sampler& sampler) const override;
  BoundaryPoints sample_boundary(int64_t n, Sampler& sampler) const override;
  torch::Tensor distance(const torch::Tensor& x) const override;
  torch::Tensor piece_distance(const torch::Tensor& x, const std::vector<std::string>& pieces) const override;
  torch::Tensor join_distances(const torch::Tensor& phis) const override { return space_->join_distances(phis); }
  std::vector<std::string> boundary_names() const override { return space_->boundary_names(); }
  double measure() const override { return space_->measure() * (t1_ - t0_); }
  bool measure_is_exact() const override { return space_->measure_is_exact(); }
  double boundary_measure() const override { return space_->boundary_measure() * (t1_ - t0_); }
  std::vector<std::string> coordinate_names() const override;

  // [n, d + 1] points of the initial slice t = t0, uniform in space.
  torch::Tensor sample_initial(int64_t n, Sampler& sampler) const;
  // [N] t - t0: zero on the initial slice, positive later.
  torch::Tensor initial_distance(const torch::Tensor& x) const;

  const GeometryPtr& space() const { return space_; }
  double t0() const { return t0_; }
  double t1() const { return t1_; }

 private:
  torch::Tensor spatial(const torch::Tensor& x) const { return x.slice(1, 0, space_->dim()); }
  torch::Tensor time(const torch::Tensor& x) const { return x.select(1, space_->dim()); }
  torch::Tensor with_time(const torch::Tensor& xs, const torch::Tensor& t) const;  // [n, d] + [n] -> [n, d+1]

  GeometryPtr space_;
  double t0_, t1_;
};

}  // namespace physis::geometry
