#include "geometry/mesh.h"

namespace physis::geometry {

torch::Tensor boundary_facets(const torch::Tensor& cells) {
  // Every cell contributes its dim + 1 faces (drop one vertex each); faces seen once are on the boundary.
  const int64_t k = cells.size(1);
  std::vector<torch::Tensor> faces;
  for (int64_t drop = 0; drop < k; ++drop) {
    std::vector<int64_t> keep;
    for (int64_t j = 0; j < k; ++j)
      if (j != drop) keep.push_back(j);
    faces.push_back(cells.index_select(1, torch::tensor(keep, torch::kLong)));
  }
  auto all = torch::cat(faces);                                                     // [C (dim+1), dim]
  auto sorted = std::get<0>(all.sort(1));
  auto [unique, inverse, counts] = torch::unique_dim(sorted, 0, true, true, true);
  auto once = counts.index({inverse}) == 1;                                         // [C (dim+1)]
  return all.index({once});                                                         // original orientation
}

}  // namespace physis::geometry
