// Finds the simplex of a mesh that holds each query point, through a uniform grid of bins over the mesh's
// bounding box.
//
//   CellLocator locator(vertices);          // [C, d + 1, d] float64 cell corners
//   auto cell = locator.locate(x);          // [N] int64: a cell holding x_i, or -1 outside the mesh
//
// Each cell is listed in every bin its bounding box overlaps; a point is tested (barycentric coordinates within
// eps) only against the cells of its own bin, so a query costs O(N k) for k cells per bin instead of O(N C).
// About one cell per bin on average: for shape-regular meshes k stays small (tens), and the work per point does
// not grow with the mesh.
#pragma once

#include <torch/types.h>

namespace physis::geometry {

class CellLocator {
 public:
  explicit CellLocator(const torch::Tensor& vertices, double eps = 1e-10);

  // [N] int64 index of a cell that contains each point (the first in bin order where cells share a face),
  // -1 for points in no cell. Points of any floating type and device; the search runs in float64 on the CPU.
  torch::Tensor locate(const torch::Tensor& x) const;

  int64_t max_cells_per_bin() const { return max_per_bin_; }

 private:
  torch::Tensor bins_of(const torch::Tensor& x) const;  // [N] flat bin index, -1 outside the grid

  int64_t dim_ = 0;
  double eps_ = 0;
  torch::Tensor origin_;    // [C, d] first corner of each cell
  torch::Tensor inverse_;   // [C, d, d] inverse edge matrix: barycentric coordinates of x - origin
  torch::Tensor lo_;        // [d] grid corner
  torch::Tensor width_;     // [d] bin widths
  torch::Tensor shape_;     // [d] int64 bins per axis
  torch::Tensor strides_;   // [d] int64 flat-index strides
  torch::Tensor start_;     // [B + 1] int64 offsets of each bin's run in cells_
  torch::Tensor cells_;     // [P] int64 cell indices, grouped by bin
  int64_t max_per_bin_ = 0;
};

}  // namespace physis::geometry
