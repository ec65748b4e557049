// Choosing part of a boundary: by piece name, by a predicate on the points, or both.
//
//   auto inlet = BoundarySelector{{"x_min"}, nullptr};
//   auto top = BoundarySelector{{}, parse_predicate("y >= 0.5 && x < 0.2", domain->coordinate_names())};
//   auto b = sample_boundary_where(*domain, 100, sampler, top);   // 100 points, all on the selection
//
// A predicate is any callable [N, d] -> [N] bool (a later expression parser produces them); parse_predicate
// reads the simple form `coord OP number [&& coord OP number ...]` with OP one of == != < <= > >=. Tolerance:
// == holds within tol, != beyond it; <= and >= include values within tol, < and > exclude them.
#pragma once

#include "geometry/geometry.h"

#include <functional>
#include <string>
#include <vector>

namespace physis::geometry {

using PointPredicate = std::function<torch::Tensor(const torch::Tensor&)>;

// Throws GeometryError naming the unreadable part and the known coordinate names.
PointPredicate parse_predicate(const std::string& text, const std::vector<std::string>& coordinate_names,
                               double tol = 1e-6);

struct BoundarySelector {
  std::vector<std::string> pieces;  // empty: every piece
  PointPredicate predicate;         // empty: every point
};

// [N] bool: the points of b on the selection. Unknown piece names are an error listing the known ones.
torch::Tensor select_boundary(const BoundaryPoints& b, const BoundarySelector& selector);

// n boundary points uniform (by length/area) on the selected part of the boundary.
BoundaryPoints sample_boundary_where(const Geometry& geometry, int64_t n, Sampler& sampler,
                                     const BoundarySelector& selector);

}  // namespace physis::geometry
