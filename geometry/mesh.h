// A simplicial mesh (triangles in 2-D, tetrahedra in 3-D) with named regions and named boundary facets,
// as plain tensors: what .msh files, Gmsh-built shapes and MeshGeometry share.
#pragma once

#include <torch/types.h>

#include <string>
#include <vector>

namespace physis::geometry {

struct Mesh {
  int64_t dim = 0;                          // 2 or 3: the cells' dimension
  torch::Tensor nodes;                      // [M, 3] float64 coordinates (z = 0 for planar meshes)
  torch::Tensor cells;                      // [C, dim + 1] int64 node rows of each simplex
  torch::Tensor cell_region;                // [C] int64 index into region_names
  std::vector<std::string> region_names;    // physical groups of dimension dim ("domain" when none)
  torch::Tensor facets;                     // [F, dim] int64 node rows of each boundary facet
  torch::Tensor facet_piece;                // [F] int64 index into boundary_names
  std::vector<std::string> boundary_names;  // physical groups of dimension dim - 1 ("boundary" when none)
};

// [F, dim] facets that belong to exactly one cell (the mesh's boundary), from cells [C, dim + 1].
torch::Tensor boundary_facets(const torch::Tensor& cells);

}  // namespace physis::geometry
