#include "geometry/geometry.h"

#include "core/strings.h"
#include "geometry/adf.h"

#include "geometry/error.h"

#include <cxxabi.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <memory>
#include <typeinfo>

namespace physis::geometry {

torch::Tensor BoundaryPoints::mask(const std::string& name) const {
  for (size_t i = 0; i < names.size(); ++i)
    if (names[i] == name) return piece == static_cast<int64_t>(i);
  return torch::zeros_like(piece, piece.options().dtype(torch::kBool));
}

BoundaryPoints BoundaryPoints::subset(const torch::Tensor& mask_or_index) const {
  return {points.index({mask_or_index}), normals.index({mask_or_index}), piece.index({mask_or_index}), names};
}

BoundaryPoints BoundaryPoints::cat(const std::vector<BoundaryPoints>& parts) {
  if (parts.empty()) throw GeometryError("BoundaryPoints::cat needs at least one part");
  std::vector<torch::Tensor> points, normals, piece;
  for (const auto& part : parts) {
    if (part.names != parts.front().names)
      throw GeometryError("BoundaryPoints::cat: parts have different piece names; remap them first");
    points.push_back(part.points);
    normals.push_back(part.normals);
    piece.push_back(part.piece);
  }
  return {torch::cat(points), torch::cat(normals), torch::cat(piece), parts.front().names};
}

std::vector<std::string> Geometry::coordinate_names() const {
  const int64_t d = dim();
  if (d <= 3) {
    const std::vector<std::string> xyz{"x", "y", "z"};
    return {xyz.begin(), xyz.begin() + d};
  }
  std::vector<std::string> names;
  for (int64_t i = 0; i < d; ++i) names.push_back(std::string("x").append(std::to_string(i)));
  return names;
}

namespace {

// "Difference" for physis::geometry::Difference: what the user wrote in the geometry section, near enough.
std::string kind_of(const Geometry& g) {
  int status = 0;
  std::unique_ptr<char, void (*)(void*)> name(abi::__cxa_demangle(typeid(g).name(), nullptr, nullptr, &status),
                                              std::free);
  std::string kind = status == 0 ? name.get() : typeid(g).name();
  return kind.substr(kind.rfind(':') == std::string::npos ? 0 : kind.rfind(':') + 1);
}

}  // namespace

bool Geometry::names_whole_boundary(const std::vector<std::string>& pieces) const {
  const auto names = boundary_names();
  for (const auto& piece : pieces)
    if (std::find(names.begin(), names.end(), piece) == names.end())
      throw GeometryError("no boundary piece named '" + piece + "' on this " + kind_of(*this) +
                          "; its pieces are " + join(names));
  return std::all_of(names.begin(), names.end(), [&](const std::string& name) {
    return std::find(pieces.begin(), pieces.end(), name) != pieces.end();
  });
}

torch::Tensor Geometry::join_distances(const torch::Tensor& phis) const { return r_equivalence(phis); }

torch::Tensor Geometry::piece_distance(const torch::Tensor& x, const std::vector<std::string>& pieces) const {
  if (names_whole_boundary(pieces)) return distance(x);
  throw GeometryError("piece distances are not available for " + kind_of(*this) +
                      " (only the whole boundary); use a soft condition");
}

torch::Tensor Geometry::interior(const torch::Tensor& x, double tol) const {
  return inside(x).logical_and(on_boundary(x, tol).logical_not());
}

double Geometry::diameter() const {
  const auto box = bounding_box();
  double sum = 0;
  for (size_t i = 0; i < box.lower.size(); ++i) sum += std::pow(box.upper[i] - box.lower[i], 2);
  return std::sqrt(sum);
}

void check_points(const torch::Tensor& x, int64_t dim, const char* who) {
  TORCH_CHECK(x.dim() == 2 && x.size(1) == dim, who, ": expected points [N, ", dim, "] but got ", x.sizes());
  TORCH_CHECK(x.is_floating_point(), who, ": expected floating-point points but got ", x.dtype());
}

}  // namespace physis::geometry
