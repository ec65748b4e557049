// A mesh as the geometry of a PINN problem.
//
//   MeshGeometry domain(read_msh("plate.msh"));
//   auto x = domain.sample_interior(1000, sampler);      // cells chosen by area/volume, uniform inside each
//   auto b = domain.sample_boundary(200, sampler);       // facets chosen by length/area, piece = physical name
//
// inside() locates points in cells through a grid of bins (geometry/cell_locator.h); on_boundary() and
// distance() use the exact distance to the nearest boundary facet, signed by inside(). That distance is only
// Lipschitz (not smooth) across the medial axis: fine for sampling and selection, not for hard constraints
// that need second derivatives — use an analytic geometry's ADF there.
#pragma once

#include "geometry/cell_locator.h"
#include "geometry/geometry.h"
#include "geometry/mesh.h"

#include <optional>

namespace physis::geometry {

class MeshGeometry : public Geometry {
 public:
  explicit MeshGeometry(Mesh mesh);

  int64_t dim() const override { return mesh_.dim; }
  BoundingBox bounding_box() const override;
  torch::Tensor inside(const torch::Tensor& x) const override;
  torch::Tensor on_boundary(const torch::Tensor& x, double tol = 1e-6) const override;
  torch::Tensor sample_interior(int64_t n, Sampler& sampler) const override;
  BoundaryPoints sample_boundary(int64_t n, Sampler& sampler) const override;
  torch::Tensor distance(const torch::Tensor& x) const override;
  std::vector<std::string> boundary_names() const override { return mesh_.boundary_names; }
  double measure() const override;
  double boundary_measure() const override;

  const Mesh& mesh() const { return mesh_; }

 private:
  torch::Tensor facet_distance(const torch::Tensor& x) const;  // [N] distance to the nearest boundary facet

  Mesh mesh_;
  torch::Tensor vertices_;      // [C, dim + 1, dim] float64 cell corners
  std::optional<CellLocator> locator_;
  torch::Tensor volumes_;       // [C]
  torch::Tensor facet_points_;  // [F, dim, dim] facet corners
  torch::Tensor facet_sizes_;   // [F] length/area
  torch::Tensor normals_;       // [F, dim] outward unit normals
};

}  // namespace physis::geometry
