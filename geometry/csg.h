// Constructive solid geometry: union, difference and intersection of any two geometries of one dimension,
// nested freely (a CSG result is a Geometry like any other).
//
//   auto plate = csg_difference(square, csg_union(hole_a, hole_b));
//
// Sampling draws from the operands and keeps what lies on the result (no bounding-box rejection, so it works in
// any dimension): boundary points of an operand are kept only where they are boundary points of the result,
// with the normal flipped on the subtracted operand's boundary and the operand's piece names kept (equal names
// merge). Area/volume and boundary measure are deterministic quasi-Monte Carlo estimates, computed once.
// distance() composes the operands' signed ADFs with R0 functions: A or B, A and B, A and not B.
// piece_distance() takes, from each operand, its own piece distance of the named pieces it owns, trimmed
// (Sukumar & Srivastava's eq. 18) to where that boundary is the result's: outside the other operand (union, A's
// walls in A - B) or inside it (intersection, the hole's walls), and within the operand's other pieces' region so
// that a face plane reaching past its face stays nonzero. The operands' parts are joined by R-equivalence: zero
// exactly on the named pieces of the result, positive inside it, ~ Euclidean near the pieces away from corners.
#pragma once

#include "geometry/geometry.h"

#include <mutex>

namespace physis::geometry {

enum class CsgOperation { union_of, difference, intersection };

class Csg : public Geometry {
 public:
  Csg(CsgOperation operation, GeometryPtr a, GeometryPtr b);

  int64_t dim() const override { return a_->dim(); }
  BoundingBox bounding_box() const override;
  torch::Tensor inside(const torch::Tensor& x) const override;
  torch::Tensor on_boundary(const torch::Tensor& x, double tol = 1e-6) const override;
  torch::Tensor sample_interior(int64_t n, Sampler& sampler) const override;
  BoundaryPoints sample_boundary(int64_t n, Sampler& sampler) const override;
  torch::Tensor distance(const torch::Tensor& x) const override;
  std::vector<std::string> boundary_names() const override { return names_; }
  torch::Tensor piece_distance(const torch::Tensor& x, const std::vector<std::string>& pieces) const override;
  double measure() const override;
  bool measure_is_exact() const override { return false; }
  double boundary_measure() const override;

  CsgOperation operation() const { return operation_; }
  const GeometryPtr& first() const { return a_; }
  const GeometryPtr& second() const { return b_; }

 private:
  // Boundary candidates from both operands (in proportion to their boundary measures), flagged in `keep`.
  BoundaryPoints propose_boundary(int64_t m, Sampler& sampler, torch::Tensor& keep) const;
  torch::Tensor keep_boundary_of(const Geometry& other, bool own_is_b, const torch::Tensor& x) const;
  void estimate_measures() const;

  CsgOperation operation_;
  GeometryPtr a_, b_;
  std::vector<std::string> names_;
  std::vector<int64_t> a_to_name_, b_to_name_;  // operand piece index -> index into names_
  double tol_;                                   // relative to the operands' size, for boundary tests
  mutable std::once_flag estimated_;
  mutable double measure_ = 0, boundary_measure_ = 0;
};

GeometryPtr csg_union(GeometryPtr a, GeometryPtr b);
GeometryPtr csg_difference(GeometryPtr a, GeometryPtr b);
GeometryPtr csg_intersection(GeometryPtr a, GeometryPtr b);

}  // namespace physis::geometry
