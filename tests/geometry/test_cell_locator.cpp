// The binned cell locator against a brute-force search over every cell.
#include <catch2/catch.hpp>

#include "geometry/cell_locator.h"
#include "geometry/error.h"

#include <vector>

using namespace physis::geometry;

namespace {

// [N, C] true where point n lies in cell c (barycentric coordinates within eps).
torch::Tensor brute_force(const torch::Tensor& vertices, const torch::Tensor& x, double eps = 1e-10) {
  auto origin = vertices.select(1, 0);
  auto inverse = torch::linalg_inv((vertices.slice(1, 1) - origin.unsqueeze(1)).transpose(1, 2));
  auto lambda = torch::einsum("cij,ncj->nci", {inverse, x.unsqueeze(1) - origin.unsqueeze(0)});
  return (lambda >= -eps).all(-1).logical_and(lambda.sum(-1) <= 1 + eps);
}

// A jittered Kuhn triangulation of the unit square (2 triangles per square) or cube (6 tetrahedra per cube) with
// n intervals per side, without the cells whose centroid lies within 0.3 of the centre: a domain with a hole.
torch::Tensor holed_mesh(int64_t d, int64_t n, uint64_t seed) {
  torch::manual_seed(seed);
  const int64_t m = n + 1;
  auto axis = torch::linspace(0, 1, m, torch::kFloat64);
  auto grids = torch::meshgrid(std::vector<torch::Tensor>(d, axis), "ij");
  std::vector<torch::Tensor> columns;
  for (auto& g : grids) columns.push_back(g.reshape(-1));
  auto nodes = torch::stack(columns, 1);                                           // [m^d, d]
  auto interior = ((nodes > 0).logical_and(nodes < 1)).all(1, true);
  nodes = nodes + interior * (torch::rand_like(nodes) - 0.5) * (0.2 / static_cast<double>(n));
  std::vector<std::vector<int64_t>> paths = d == 2 ? std::vector<std::vector<int64_t>>{{0, 1}, {1, 0}}
                                                   : std::vector<std::vector<int64_t>>{{0, 1, 2}, {0, 2, 1}, {1, 0, 2},
                                                                                       {1, 2, 0}, {2, 0, 1}, {2, 1, 0}};
  std::vector<int64_t> stride(d, 1);
  for (int64_t i = d - 2; i >= 0; --i) stride[i] = stride[i + 1] * m;
  std::vector<int64_t> cells;
  std::vector<int64_t> corner(d, 0);
  for (int64_t flat = 0; flat < (d == 2 ? n * n : n * n * n); ++flat) {
    int64_t rest = flat;
    for (int64_t i = d - 1; i >= 0; --i) { corner[i] = rest % n; rest /= n; }
    for (const auto& path : paths) {  // one simplex per ordering of the axes: walk from the corner one axis at a time
      int64_t node = 0;
      for (int64_t i = 0; i < d; ++i) node += corner[i] * stride[i];
      cells.push_back(node);
      for (int64_t axis_step : path) { node += stride[axis_step]; cells.push_back(node); }
    }
  }
  auto vertices = nodes.index({torch::tensor(cells).reshape({-1, d + 1})});      // [C, d + 1, d]
  auto keep = torch::linalg_vector_norm(vertices.mean(1) - 0.5, 2, {1}) > 0.3;
  return vertices.index({keep}).contiguous();
}

void check_against_brute_force(int64_t d) {
  auto vertices = holed_mesh(d, d == 2 ? 24 : 8, 7);
  CellLocator locator(vertices);
  torch::manual_seed(11);
  // Random points over and beyond the bounding box, every vertex, and points on cell faces (edge midpoints).
  auto x = torch::cat({torch::rand({4000, d}, torch::kFloat64) * 1.4 - 0.2, vertices.reshape({-1, d}),
                       0.5 * (vertices.select(1, 0) + vertices.select(1, 1))});
  auto cell = locator.locate(x);
  auto truth = brute_force(vertices, x);                                           // [N, C]
  REQUIRE(torch::equal(cell >= 0, truth.any(1)));
  auto found = (cell >= 0).nonzero().squeeze(1);
  REQUIRE(found.numel() > 1000);
  REQUIRE(truth.index({found, cell.index({found})}).all().item<bool>());          // the returned cell holds the point
  REQUIRE(locator.max_cells_per_bin() < 64);
}

}  // namespace

TEST_CASE("the binned cell locator finds a holding cell exactly where a brute-force search does", "[geometry][mesh]") {
  SECTION("triangles") { check_against_brute_force(2); }
  SECTION("tetrahedra") { check_against_brute_force(3); }
}

TEST_CASE("a mesh geometry with a hole: inside() follows the cells", "[geometry][mesh]") {
  auto vertices = holed_mesh(2, 20, 3);
  auto x = torch::tensor({{0.5, 0.5}, {0.05, 0.05}, {0.95, 0.5}, {1.5, 0.5}}, torch::kFloat64);
  REQUIRE(torch::equal(CellLocator(vertices).locate(x) >= 0, torch::tensor({false, true, true, false})));
  REQUIRE_THROWS_AS(CellLocator(torch::zeros({0, 3, 2}, torch::kFloat64)), GeometryError);
}
