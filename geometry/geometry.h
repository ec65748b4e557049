// The one interface every domain implements, in any dimension.
//
//   auto domain = std::make_shared<Difference>(std::make_shared<Box>(lo, hi), std::make_shared<Ball>(c, r));
//   Sampler sampler(SamplerOptions().kind(SamplerKind::sobol), torch::kFloat64);
//   auto x = domain->sample_interior(1000, sampler);     // [1000, 2]
//   auto b = domain->sample_boundary(200, sampler);      // b.points, b.normals [200, 2]; b.piece [200]
//   auto phi = domain->distance(x);                      // [1000], 0 on the boundary, > 0 inside
//
// Nothing downstream asks which primitive it has: CSG, space-time products and meshes are Geometries too.
#pragma once

#include "geometry/sampler.h"

#include <torch/types.h>

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace physis::geometry {

struct BoundingBox {
  std::vector<double> lower;
  std::vector<double> upper;
};

// Points on a boundary with their outward unit normals and the named piece each lies on.
struct BoundaryPoints {
  torch::Tensor points;             // [N, d]
  torch::Tensor normals;            // [N, d], unit length, pointing out of the domain
  torch::Tensor piece;              // [N] int64, index into names
  std::vector<std::string> names;   // the geometry's boundary piece names

  int64_t size() const { return points.size(0); }
  // [N] bool: points on the piece called `name` (all false when there is no such piece).
  torch::Tensor mask(const std::string& name) const;
  BoundaryPoints subset(const torch::Tensor& mask_or_index) const;
  // Concatenation of point sets that share one list of names.
  static BoundaryPoints cat(const std::vector<BoundaryPoints>& parts);
};

class Geometry {
 public:
  virtual ~Geometry() = default;

  virtual int64_t dim() const = 0;
  virtual BoundingBox bounding_box() const = 0;
  // [N] bool for x [N, d]: the closed domain (boundary points count as inside).
  virtual torch::Tensor inside(const torch::Tensor& x) const = 0;
  // [N] bool: within `tol` of the boundary (in the coordinates' units).
  virtual torch::Tensor on_boundary(const torch::Tensor& x, double tol = 1e-6) const = 0;
  // [n, d] points uniformly distributed in the domain.
  virtual torch::Tensor sample_interior(int64_t n, Sampler& sampler) const = 0;
  // n points uniformly distributed by length/area over the whole boundary.
  virtual BoundaryPoints sample_boundary(int64_t n, Sampler& sampler) const = 0;
  // [N] approximate distance function: 0 on the boundary, positive inside, twice differentiable away from
  // corners (autograd-safe), negative or unsigned outside as each geometry documents.
  virtual torch::Tensor distance(const torch::Tensor& x) const = 0;
  // Names of the boundary pieces, unique, in a fixed order (BoundaryPoints::piece indexes into this).
  virtual std::vector<std::string> boundary_names() const = 0;
  // [N] normalised ADF of the named boundary pieces taken together: 0 exactly on them, positive in the domain
  // away from them, ~ Euclidean distance near them. Hard Dirichlet data given piece by piece is blended from
  // these (transfinite interpolation). Unknown names are a GeometryError. The default serves only the whole
  // boundary (every piece named, where it returns distance(x)) and throws otherwise; primitives with several
  // pieces override it.
  virtual torch::Tensor piece_distance(const torch::Tensor& x, const std::vector<std::string>& pieces) const;
  // [N] the distance to the union of several sets of pieces from their piece distances phis [N, k], as this
  // geometry joins them: the R-equivalence (default), or the product where distance() is a product (a box or a
  // convex polygon with `distance: product`), so that the join stays smooth where the sets meet.
  virtual torch::Tensor join_distances(const torch::Tensor& phis) const;
  // Checks that every name is one of boundary_names() (a GeometryError naming them otherwise); true when the names
  // cover the whole boundary, where piece_distance is distance().
  bool names_whole_boundary(const std::vector<std::string>& pieces) const;
  // Area/volume. Exact for primitives, a deterministic estimate for CSG results (measure_is_exact says which).
  virtual double measure() const = 0;
  virtual bool measure_is_exact() const { return true; }
  // Length/area of the whole boundary (same exactness as measure()).
  virtual double boundary_measure() const = 0;
  // Coordinate names for predicates: x, y, z up to 3-D, x0 ... x{d-1} above; space-time adds t.
  virtual std::vector<std::string> coordinate_names() const;

  // [N] bool: strictly inside, i.e. inside and not within tol of the boundary.
  torch::Tensor interior(const torch::Tensor& x, double tol = 1e-6) const;
  // Scale of the domain (diagonal of its bounding box), the reference for relative tolerances.
  double diameter() const;
};

using GeometryPtr = std::shared_ptr<const Geometry>;

// Checks x is [N, dim] with a floating dtype; `who` names the caller in the error.
void check_points(const torch::Tensor& x, int64_t dim, const char* who);

}  // namespace physis::geometry
