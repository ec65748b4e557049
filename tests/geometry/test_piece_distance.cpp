// Per-piece distance functions (hard Dirichlet data given piece by piece): zero exactly on the named pieces,
// positive inside away from them, Euclidean near them, also for CSG results (trimmed to the result's boundary);
// geometries that cannot split their boundary (meshes) say so.
#include <catch2/catch.hpp>

#include "geometry/ball.h"
#include "geometry/box.h"
#include "geometry/csg.h"
#include "geometry/error.h"
#include "geometry/mesh_geometry.h"
#include "geometry/polygon.h"

#include "tests/geometry/helpers.h"

#include <torch/autograd.h>

#include <cmath>

using namespace physis::geometry;

namespace {

const auto f64 = torch::TensorOptions().dtype(torch::kFloat64);

double max_abs(const torch::Tensor& t) { return t.abs().max().item<double>(); }

// First and second autograd derivatives of the piece distance are finite at the points x.
bool derivatives_are_finite(const Geometry& domain, const torch::Tensor& x, const std::vector<std::string>& pieces) {
  auto xg = x.detach().requires_grad_(true);
  auto phi = domain.piece_distance(xg, pieces);                                       // [N]
  auto grad = torch::autograd::grad({phi.sum()}, {xg}, {}, true, true)[0];           // [N, d]
  bool finite = torch::isfinite(grad).all().item<bool>();
  for (int64_t i = 0; i < x.size(1); ++i) {
    auto second = torch::autograd::grad({grad.select(1, i).sum()}, {xg}, {}, true)[0];  // [N, d]
    finite = finite && torch::isfinite(second).all().item<bool>();
  }
  return finite;
}

// A piece's distance vanishes on its sampled boundary points (at least `min_points` of them), is positive at the
// interior points, and has finite first and second derivatives there.
void require_piece_distance(const Geometry& domain, const BoundaryPoints& b, const torch::Tensor& inner,
                            const std::string& piece, int64_t min_points) {
  INFO(piece);
  REQUIRE(b.mask(piece).sum().item<int64_t>() > min_points);
  REQUIRE(max_abs(domain.piece_distance(b.points, {piece}).index({b.mask(piece)})) < 1e-12);
  REQUIRE((domain.piece_distance(inner, {piece}) > 0).all().item<bool>());
  REQUIRE(derivatives_are_finite(domain, inner, {piece}));
}

// One triangle whose base and other two sides are two pieces.
Mesh triangle() {
  Mesh mesh;
  mesh.dim = 2;
  mesh.nodes = torch::tensor({0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0, 0.0}, torch::kFloat64).reshape({3, 3});
  mesh.cells = torch::tensor({0, 1, 2}, torch::kLong).reshape({1, 3});
  mesh.cell_region = torch::zeros({1}, torch::kLong);
  mesh.region_names = {"domain"};
  mesh.facets = torch::tensor({0, 1, 1, 2, 2, 0}, torch::kLong).reshape({3, 2});
  mesh.facet_piece = torch::tensor({0, 1, 1}, torch::kLong);
  mesh.boundary_names = {"base", "sides"};
  return mesh;
}

}  // namespace

TEST_CASE("box piece distances vanish on their faces only and are Euclidean inside", "[geometry][hard]") {
  auto square = std::make_shared<Box>(std::vector<double>{0, 0}, std::vector<double>{1, 2});
  square->rename_boundary({{"y_max", "top"}, {"x_min", "wall"}, {"x_max", "wall"}, {"y_min", "wall"}});
  Sampler sampler(SamplerOptions().seed(3), torch::kFloat64);
  auto b = square->sample_boundary(400, sampler);
  auto top = square->piece_distance(b.points, {"top"});                              // [400]
  auto wall = square->piece_distance(b.points, {"wall"});
  auto on_top = b.mask("top"), on_wall = b.mask("wall");
  REQUIRE(on_top.any().item<bool>());
  REQUIRE(max_abs(top.index({on_top})) == 0.0);
  REQUIRE(max_abs(wall.index({on_wall})) == 0.0);
  // Each is positive on the other's points away from the shared corners.
  auto corner_free = (b.points.select(1, 0) - 0.5).abs() < 0.45;
  REQUIRE((wall.index({on_top.logical_and(corner_free)}) > 0.04).all().item<bool>());
  REQUIRE((top.index({on_wall.logical_and(b.points.select(1, 1) < 1.9)}) > 0.09).all().item<bool>());

  auto inner = square->sample_interior(300, sampler);
  REQUIRE((square->piece_distance(inner, {"top"}) > 0).all().item<bool>());
  REQUIRE((square->piece_distance(inner, {"wall"}) > 0).all().item<bool>());
  // Exact Euclidean distance to one face; the R-equivalence of three faces is within 2% near one of them.
  REQUIRE(max_abs(square->piece_distance(inner, {"top"}) - (2 - inner.select(1, 1))) < 1e-14);
  auto near_bottom = torch::tensor({{0.5, 0.01}, {0.4, 0.02}}, f64);
  auto d = square->piece_distance(near_bottom, {"wall"});
  REQUIRE(d[0].item<double>() == Approx(0.01).epsilon(0.02));
  REQUIRE(d[1].item<double>() == Approx(0.02).epsilon(0.02));
  // The whole boundary by its names.
  REQUIRE((square->piece_distance(b.points, {"top", "wall"}).abs() < 1e-15).all().item<bool>());
}

TEST_CASE("polygon piece distances vanish on the named edges and match the distance near them",
          "[geometry][hard]") {
  auto l_shape = std::make_shared<Polygon>(std::vector<Point2>{{0, 0}, {2, 0}, {2, 1}, {1, 1}, {1, 2}, {0, 2}});
  l_shape->rename_boundary({{"edge0", "floor"}, {"edge3", "step"}});
  Sampler sampler(SamplerOptions().seed(4), torch::kFloat64);
  auto b = l_shape->sample_boundary(600, sampler);
  for (const auto* name : {"floor", "step", "edge1"}) {
    INFO(name);
    auto phi = l_shape->piece_distance(b.points, {name});
    REQUIRE(b.mask(name).any().item<bool>());
    REQUIRE(max_abs(phi.index({b.mask(name)})) < 1e-7);
  }
  auto inner = l_shape->sample_interior(300, sampler);
  auto phi = l_shape->piece_distance(inner, {"floor", "step"});
  REQUIRE((phi > 0).all().item<bool>());
  REQUIRE(torch::isfinite(phi).all().item<bool>());
  // Near the middle of edge "step" ((1,1)-(1,2) at x = 1), the distance is the Euclidean one to 1e-3 relative.
  auto near = torch::tensor({{0.99, 1.5}, {0.95, 1.5}}, f64);
  auto d = l_shape->piece_distance(near, {"step"});
  REQUIRE(d[0].item<double>() == Approx(0.01).epsilon(1e-3));
  REQUIRE(d[1].item<double>() == Approx(0.05).epsilon(1e-2));
}

TEST_CASE("geometries without per-piece distances say so, unknown pieces are named", "[geometry][hard]") {
  auto square = std::make_shared<Box>(std::vector<double>{0, 0}, std::vector<double>{1, 1});
  auto disk = std::make_shared<Ball>(std::vector<double>{0.5, 0.5}, 0.2);
  auto holed = csg_difference(square, disk);
  auto x = torch::tensor({{0.1, 0.1}}, f64);
  // The whole boundary is always available: it is the domain's distance.
  auto names = holed->boundary_names();
  REQUIRE(max_abs(holed->piece_distance(x, names) - holed->distance(x)) == 0.0);
  REQUIRE(max_abs(disk->piece_distance(x, {"circle"}) - disk->distance(x)) == 0.0);
  REQUIRE_THROWS_AS(square->piece_distance(x, {"lid"}), GeometryError);
  REQUIRE_THROWS_WITH(square->piece_distance(x, {"lid"}), Catch::Contains("x_min"));
  REQUIRE_THROWS_WITH(disk->piece_distance(x, {"lid"}), Catch::Contains("no boundary piece named 'lid'"));
  REQUIRE_THROWS_WITH(holed->piece_distance(x, {"lid"}),
                      Catch::Contains("no boundary piece named 'lid'") && Catch::Contains("circle"));
  // A mesh has only its whole boundary, also as a CSG operand.
  auto mesh = std::make_shared<MeshGeometry>(triangle());
  REQUIRE_THROWS_WITH(mesh->piece_distance(x, {"base"}), Catch::Contains("piece distances are not available for") &&
                                                             Catch::Contains("use a soft condition"));
  auto cut = csg_difference(mesh, std::make_shared<Ball>(std::vector<double>{0.3, 0.3}, 0.1));
  REQUIRE_THROWS_WITH(cut->piece_distance(x, {"base"}), Catch::Contains("piece distances are not available for"));
  REQUIRE(torch::isfinite(cut->piece_distance(x, {"circle"})).all().item<bool>());
}

TEST_CASE("CSG piece distances on Poisson2d-C vanish on their pieces and are Euclidean near them",
          "[geometry][hard]") {
  auto domain = physis::test::poisson2d_c("holes");
  REQUIRE(domain->boundary_names() == std::vector<std::string>{"outer", "holes"});
  Sampler sampler(SamplerOptions().seed(5), torch::kFloat64);
  auto b = domain->sample_boundary(1000, sampler);
  auto outer = domain->piece_distance(b.points, {"outer"}), holes = domain->piece_distance(b.points, {"holes"});
  auto on_outer = b.mask("outer"), on_holes = b.mask("holes");
  REQUIRE(on_outer.sum().item<int64_t>() > 100);
  REQUIRE(on_holes.sum().item<int64_t>() > 100);
  REQUIRE(max_abs(outer.index({on_outer})) < 1e-12);
  REQUIRE(max_abs(holes.index({on_holes})) < 1e-12);
  // Each is away from zero on the other's pieces (the circles are 0.1 from the square).
  REQUIRE((outer.index({on_holes}) > 0.05).all().item<bool>());
  REQUIRE((holes.index({on_outer}) > 0.05).all().item<bool>());

  auto inner = domain->sample_interior(500, sampler);
  REQUIRE((domain->piece_distance(inner, {"outer"}) > 0).all().item<bool>());
  REQUIRE((domain->piece_distance(inner, {"holes"}) > 0).all().item<bool>());
  // Near the middle of an edge and 0.01 off a circle: the Euclidean distance (the disk's ADF is
  // (r^2 - rho^2) / 2r = delta (1 + delta / 2r) off the circle, lowered a little by the union's R-function).
  auto near = torch::tensor({{0.0, 0.49}, {0.3, 0.41}}, f64);
  REQUIRE(domain->piece_distance(near, {"outer"})[0].item<double>() == Approx(0.01).epsilon(1e-3));
  REQUIRE(domain->piece_distance(near, {"holes"})[1].item<double>() == Approx(0.0105).epsilon(1e-2));
  for (const auto* piece : {"outer", "holes"}) {
    INFO(piece);
    REQUIRE(derivatives_are_finite(*domain, inner, {piece}));
  }
}

TEST_CASE("CSG piece distances are trimmed to the result's boundary", "[geometry][hard]") {
  // Two overlapping disks: the arc of each inside the other is interior to the union, where its piece distance
  // must not vanish (the disk's own ADF does).
  auto left = physis::test::disk(-0.1, 0.0, 0.2, "left"), right = physis::test::disk(0.1, 0.0, 0.2, "right");
  auto lens = csg_union(left, right);
  auto hidden = torch::tensor({{0.1, 0.0}, {-0.1, 0.0}}, f64);  // on the left circle, on the right circle
  REQUIRE(max_abs(left->distance(hidden.slice(0, 0, 1))) < 1e-15);
  REQUIRE(lens->piece_distance(hidden, {"left"})[0].item<double>() > 0.05);
  REQUIRE(lens->piece_distance(hidden, {"right"})[1].item<double>() > 0.05);
  Sampler sampler(SamplerOptions().seed(6), torch::kFloat64);
  auto b = lens->sample_boundary(400, sampler);
  for (const auto* piece : {"left", "right"}) {
    INFO(piece);
    REQUIRE(max_abs(lens->piece_distance(b.points, {piece}).index({b.mask(piece)})) < 1e-12);
    REQUIRE((lens->piece_distance(lens->sample_interior(300, sampler), {piece}) > 0).all().item<bool>());
  }

  // A notch cut from the top of a square: the plane of the notch's floor (y = 0.8) crosses the square's
  // interior, where the floor's piece distance must not vanish.
  auto square = std::make_shared<Box>(std::vector<double>{0, 0}, std::vector<double>{1, 1});
  square->name_boundary("outer");
  auto notch = std::make_shared<Box>(std::vector<double>{0.4, 0.8}, std::vector<double>{0.6, 1.2});
  notch->rename_boundary({{"y_min", "floor"}, {"x_min", "side"}, {"x_max", "side"}, {"y_max", "above"}});
  auto notched = csg_difference(square, notch);
  auto on_plane = torch::tensor({{0.2, 0.8}, {0.9, 0.8}}, f64);
  REQUIRE(max_abs(notch->piece_distance(on_plane, {"floor"})) < 1e-15);
  REQUIRE((notched->piece_distance(on_plane, {"floor"}) > 0.1).all().item<bool>());
  auto bn = notched->sample_boundary(2000, sampler);
  auto inner = notched->sample_interior(500, sampler);
  for (const auto* piece : {"floor", "side", "outer"}) require_piece_distance(*notched, bn, inner, piece, 10);
  // Near the floor's middle, from below: Euclidean.
  auto below = torch::tensor({{0.5, 0.79}}, f64);
  REQUIRE(notched->piece_distance(below, {"floor"}).item<double>() == Approx(0.01).epsilon(1e-2));
}

TEST_CASE("CSG piece distances: a difference with a nested union and a 3-D box minus a ball",
          "[geometry][hard]") {
  // A square minus a disk and a bar that overlaps it, each its own piece.
  auto square = std::make_shared<Box>(std::vector<double>{-1, -1}, std::vector<double>{1, 1});
  square->name_boundary("outer");
  auto disk = std::make_shared<Ball>(std::vector<double>{0, 0}, 0.3);
  auto bar = std::make_shared<Box>(std::vector<double>{0.1, -0.1}, std::vector<double>{0.6, 0.1});
  bar->name_boundary("bar");
  auto domain = csg_difference(square, csg_union(disk, bar));
  Sampler sampler(SamplerOptions().seed(7), torch::kFloat64);
  auto b = domain->sample_boundary(2000, sampler);
  auto inner = domain->sample_interior(500, sampler);
  for (const auto* piece : {"outer", "circle", "bar"}) {
    require_piece_distance(*domain, b, inner, piece, 20);
    INFO(piece);  // and positive on the other pieces
    REQUIRE((domain->piece_distance(b.points, {piece}).index({b.mask(piece).logical_not()}) > 0).all().item<bool>());
  }
  REQUIRE(max_abs(domain->piece_distance(b.points, {"circle", "bar"}).index({b.mask("outer").logical_not()})) <
          1e-12);

  // A cube with a lid, minus a ball.
  auto cube = std::make_shared<Box>(std::vector<double>{0, 0, 0}, std::vector<double>{1, 1, 1});
  cube->rename_boundary({{"z_max", "lid"}, {"x_min", "wall"}, {"x_max", "wall"}, {"y_min", "wall"},
                         {"y_max", "wall"}, {"z_min", "wall"}});
  auto ball = std::make_shared<Ball>(std::vector<double>{0.5, 0.5, 0.5}, 0.25);
  auto solid = csg_difference(cube, ball);
  REQUIRE(solid->boundary_names() == std::vector<std::string>{"wall", "lid", "sphere"});
  auto b3 = solid->sample_boundary(2000, sampler);
  auto inner3 = solid->sample_interior(500, sampler);
  for (const auto* piece : {"lid", "wall", "sphere"}) require_piece_distance(*solid, b3, inner3, piece, 20);
  auto near_lid = torch::tensor({{0.5, 0.5, 0.98}}, f64);
  REQUIRE(solid->piece_distance(near_lid, {"lid"}).item<double>() == Approx(0.02).epsilon(1e-3));
}
