#include "geometry/ball.h"

#include "geometry/error.h"
#include "geometry/sampling_util.h"

#include <cmath>

namespace physis::geometry {

Ball::Ball(std::vector<double> center, double radius)
    : Primitive({center.size() == 2 ? "circle" : "sphere"}), center_(std::move(center)), radius_(radius) {
  if (center_.empty()) throw GeometryError("a ball needs a center with at least one coordinate");
  if (!(radius_ > 0)) throw GeometryError("a ball needs radius > 0, got " + std::to_string(radius_));
}

std::shared_ptr<Ball> Ball::hyperball(int64_t dim, double radius, double center) {
  if (dim < 1) throw GeometryError("a hyperball needs dim >= 1, got " + std::to_string(dim));
  return std::make_shared<Ball>(std::vector<double>(dim, center), radius);
}

BoundingBox Ball::bounding_box() const {
  BoundingBox box{center_, center_};
  for (size_t i = 0; i < center_.size(); ++i) {
    box.lower[i] -= radius_;
    box.upper[i] += radius_;
  }
  return box;
}

torch::Tensor Ball::radial(const torch::Tensor& x) const {
  return torch::linalg_vector_norm(x - to_tensor(center_, x.options()), 2, {1});
}

torch::Tensor Ball::inside(const torch::Tensor& x) const {
  check_points(x, dim(), "Ball::inside");
  return radial(x) <= radius_ * (1 + 1e-12);  // closed, forgiving rounding of points computed on the sphere
}

torch::Tensor Ball::on_boundary(const torch::Tensor& x, double tol) const {
  check_points(x, dim(), "Ball::on_boundary");
  return (radial(x) - radius_).abs() <= tol;
}

torch::Tensor Ball::sample_interior(int64_t n, Sampler& sampler) const {
  const int64_t d = dim();
  auto g = sampler.normal(n, d);                                                    // [n, d]
  auto direction = g / torch::linalg_vector_norm(g, 2, {1}, true);                  // [n, d]
  auto r = radius_ * torch::pow(sampler.uniform(n, 1), 1.0 / static_cast<double>(d));  // [n, 1]
  return to_tensor(center_, sampler.options()) + r * direction;
}

BoundaryPoints Ball::sample_boundary(int64_t n, Sampler& sampler) const {
  auto g = sampler.normal(n, dim());                                                // [n, d]
  auto normals = g / torch::linalg_vector_norm(g, 2, {1}, true);                    // [n, d]
  auto points = to_tensor(center_, sampler.options()) + radius_ * normals;
  auto piece = torch::zeros({n}, sampler.options().dtype(torch::kLong));
  return make_boundary(points, normals, piece);
}

torch::Tensor Ball::distance(const torch::Tensor& x) const {
  check_points(x, dim(), "Ball::distance");
  auto squared = (x - to_tensor(center_, x.options())).pow(2).sum(1);              // [N]
  return (radius_ * radius_ - squared) / (2 * radius_);
}

double Ball::measure() const {
  const double d = static_cast<double>(dim());
  return std::exp(d / 2 * std::log(M_PI) + d * std::log(radius_) - std::lgamma(d / 2 + 1));
}

double Ball::boundary_measure() const { return static_cast<double>(dim()) / radius_ * measure(); }

}  // namespace physis::geometry
