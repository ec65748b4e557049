#include "geometry/box.h"

#include "geometry/adf.h"
#include "geometry/error.h"
#include "geometry/sampling_util.h"

#include <cmath>

namespace physis::geometry {

namespace {

std::vector<std::string> face_names(size_t dim) {
  std::vector<std::string> names;
  names.reserve(2 * dim);
  for (size_t i = 0; i < dim; ++i) {
    std::string axis(1, dim <= 3 ? "xyz"[i] : 'x');
    if (dim > 3) axis += std::to_string(i);
    names.push_back(axis + "_min");
    names.push_back(axis + "_max");
  }
  return names;
}

}  // namespace

Box::Box(std::vector<double> lower, std::vector<double> upper)
    : Primitive(face_names(lower.size())), lower_(std::move(lower)), upper_(std::move(upper)) {
  if (lower_.empty() || lower_.size() != upper_.size())
    throw GeometryError("a box needs lower and upper corners of one non-zero dimension, got " +
                        std::to_string(lower_.size()) + " and " + std::to_string(upper_.size()) + " coordinates");
  for (size_t i = 0; i < lower_.size(); ++i)
    if (!(upper_[i] > lower_[i]))
      throw GeometryError("a box needs lower < upper on every axis; axis " + std::to_string(i) + " has [" +
                          std::to_string(lower_[i]) + ", " + std::to_string(upper_[i]) + "]");
}

std::shared_ptr<Box> Box::hypercube(int64_t dim, double lower, double upper) {
  if (dim < 1) throw GeometryError("a hypercube needs dim >= 1, got " + std::to_string(dim));
  return std::make_shared<Box>(std::vector<double>(dim, lower), std::vector<double>(dim, upper));
}

std::shared_ptr<Box> Box::time_interval(double t0, double t1) {
  auto interval = std::make_shared<Box>(std::vector<double>{t0}, std::vector<double>{t1});
  interval->rename_boundary({{"x_min", "initial"}, {"x_max", "final"}});
  return interval;
}

torch::Tensor Box::inside(const torch::Tensor& x) const {
  check_points(x, dim(), "Box::inside");
  auto lo = to_tensor(lower_, x.options()), hi = to_tensor(upper_, x.options());
  return (x >= lo).logical_and(x <= hi).all(1);
}

torch::Tensor Box::on_boundary(const torch::Tensor& x, double tol) const {
  check_points(x, dim(), "Box::on_boundary");
  auto lo = to_tensor(lower_, x.options()), hi = to_tensor(upper_, x.options());
  auto within = (x >= lo - tol).logical_and(x <= hi + tol).all(1);               // [N]
  auto gap = torch::minimum((x - lo).abs(), (hi - x).abs());                      // [N, d]
  return within.logical_and(std::get<0>(gap.min(1)) <= tol);
}

torch::Tensor Box::sample_interior(int64_t n, Sampler& sampler) const {
  auto lo = to_tensor(lower_, sampler.options()), hi = to_tensor(upper_, sampler.options());
  return lo + (hi - lo) * sampler.uniform(n, dim());                               // [n, d]
}

BoundaryPoints Box::sample_boundary(int64_t n, Sampler& sampler) const {
  const int64_t d = dim();
  auto opts = sampler.options();
  auto lo = to_tensor(lower_, opts), hi = to_tensor(upper_, opts);
  auto u = sampler.uniform(n, d + 1);                                             // [n, d + 1]
  // Face (axis i, side s) has area volume / L_i: pick faces with weights 1 / L_i.
  auto face_weight = (1.0 / (hi - lo)).repeat_interleave(2);                      // [2d]
  auto face = pick_by_weight(u.select(1, 0), face_weight);                        // [n]
  auto axis = torch::div(face, 2, "floor");                                       // [n]
  auto upper_side = torch::remainder(face, 2).to(u.scalar_type());                   // [n]
  auto points = lo + (hi - lo) * u.slice(1, 1);                                   // [n, d]
  auto ends = lo.index({axis}) + (hi - lo).index({axis}) * upper_side;            // [n]
  points.scatter_(1, axis.unsqueeze(1), ends.unsqueeze(1));
  auto normals = torch::zeros_like(points);
  normals.scatter_(1, axis.unsqueeze(1), (2 * upper_side - 1).unsqueeze(1));
  return make_boundary(points, normals, face);
}

torch::Tensor Box::distance(const torch::Tensor& x) const {
  check_points(x, dim(), "Box::distance");
  auto lo = to_tensor(lower_, x.options()), hi = to_tensor(upper_, x.options());
  auto per_axis = (x - lo) * (hi - x) / (hi - lo);                                // [N, d], unit slope at faces
  return product_distance_ ? product_distance(per_axis) : r_equivalence(per_axis);
}

torch::Tensor Box::piece_distance(const torch::Tensor& x, const std::vector<std::string>& pieces) const {
  check_points(x, dim(), "Box::piece_distance");
  auto faces = torch::tensor(pieces_.members(pieces), torch::kLong).to(x.device());  // [F], face = 2 axis + side
  auto lo = to_tensor(lower_, x.options()), hi = to_tensor(upper_, x.options());
  auto to_faces = torch::stack({x - lo, hi - x}, 2).reshape({x.size(0), 2 * dim()});  // [N, 2d], face order
  if (product_distance_) to_faces = to_faces / (hi - lo).sqrt().repeat_interleave(2);    // two faces: L_i each
  return join_distances(to_faces.index_select(1, faces));                               // [N]
}

torch::Tensor Box::join_distances(const torch::Tensor& phis) const {
  return product_distance_ ? product_distance(phis) : r_equivalence(phis);
}

double Box::measure() const {
  double log_volume = 0;
  for (size_t i = 0; i < lower_.size(); ++i) log_volume += std::log(upper_[i] - lower_[i]);
  return std::exp(log_volume);
}

double Box::boundary_measure() const {
  double log_volume = 0, sum = 0;
  for (size_t i = 0; i < lower_.size(); ++i) log_volume += std::log(upper_[i] - lower_[i]);
  for (size_t i = 0; i < lower_.size(); ++i) sum += 2 * std::exp(log_volume - std::log(upper_[i] - lower_[i]));
  return sum;
}

}  // namespace physis::geometry
