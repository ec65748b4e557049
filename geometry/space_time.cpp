#include "geometry/space_time.h"

#include "geometry/error.h"

namespace physis::geometry {

SpaceTime::SpaceTime(GeometryPtr space, double t0, double t1) : space_(std::move(space)), t0_(t0), t1_(t1) {
  if (!space_) throw GeometryError("a space-time domain needs a spatial geometry");
  if (!(t1_ > t0_)) throw GeometryError("a time interval needs t0 < t1, got [" + std::to_string(t0_) + ", " +
                                        std::to_string(t1_) + "]");
}

BoundingBox SpaceTime::bounding_box() const {
  auto box = space_->bounding_box();
  box.lower.push_back(t0_);
  box.upper.push_back(t1_);
  return box;
}

std::vector<std::string> SpaceTime::coordinate_names() const {
  auto names = space_->coordinate_names();
  names.push_back("t");
  return names;
}

torch::Tensor SpaceTime::with_time(const torch::Tensor& xs, const torch::Tensor& t) const {
  return torch::cat({xs, t.reshape({-1, 1}).to(xs.dtype())}, 1);
}

torch::Tensor SpaceTime::inside(const torch::Tensor& x) const {
  check_points(x, dim(), "SpaceTime::inside");
  auto t = time(x);
  return space_->inside(spatial(x)).logical_and(t >= t0_).logical_and(t <= t1_);
}

torch::Tensor SpaceTime::on_boundary(const torch::Tensor& x, double tol) const {
  check_points(x, dim(), "SpaceTime::on_boundary");
  auto t = time(x);
  return space_->on_boundary(spatial(x), tol).logical_and(t >= t0_ - tol).logical_and(t <= t1_ + tol);
}

torch::Tensor SpaceTime::sample_interior(int64_t n, Sampler& sampler) const {
  auto xs = space_->sample_interior(n, sampler);                                    // [n, d]
  auto t = t0_ + (t1_ - t0_) * sampler.uniform(n, 1);                               // [n, 1]
  return with_time(xs, t);
}

BoundaryPoints SpaceTime::sample_boundary(int64_t n, Sampler& sampler) const {
  auto b = space_->sample_boundary(n, sampler);
  auto t = t0_ + (t1_ - t0_) * sampler.uniform(n, 1);                               // [n, 1]
  return {with_time(b.points, t), with_time(b.normals, torch::zeros_like(t)), b.piece, b.names};
}

torch::Tensor SpaceTime::sample_initial(int64_t n, Sampler& sampler) const {
  auto xs = space_->sample_interior(n, sampler);                                    // [n, d]
  return with_time(xs, torch::full({n}, t0_, xs.options()));
}

torch::Tensor SpaceTime::distance(const torch::Tensor& x) const {
  check_points(x, dim(), "SpaceTime::distance");
  return space_->distance(spatial(x));
}

torch::Tensor SpaceTime::piece_distance(const torch::Tensor& x, const std::vector<std::string>& pieces) const {
  check_points(x, dim(), "SpaceTime::piece_distance");
  return space_->piece_distance(spatial(x), pieces);
}

torch::Tensor SpaceTime::initial_distance(const torch::Tensor& x) const {
  check_points(x, dim(), "SpaceTime::initial_distance");
  return time(x) - t0_;
}

}  // namespace physis::geometry
