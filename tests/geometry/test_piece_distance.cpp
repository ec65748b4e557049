// Per-piece distance functions (hard Dirichlet data given piece by piece): zero exactly on the named pieces,
// positive inside away from them, Euclidean near them; geometries that cannot split their boundary say so.
#include <catch2/catch.hpp>

#include "geometry/ball.h"
#include "geometry/box.h"
#include "geometry/csg.h"
#include "geometry/error.h"
#include "geometry/polygon.h"

#include <cmath>

using namespace physis::geometry;

namespace {

const auto f64 = torch::TensorOptions().dtype(torch::kFloat64);

double max_abs(const torch::Tensor& t) { return t.abs().max().item<double>(); }

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

TEST_CASE("geometries without per-piece distances say so; unknown pieces are named", "[geometry][hard]") {
  auto square = std::make_shared<Box>(std::vector<double>{0, 0}, std::vector<double>{1, 1});
  auto disk = std::make_shared<Ball>(std::vector<double>{0.5, 0.5}, 0.2);
  auto holed = csg_difference(square, disk);
  auto x = torch::tensor({{0.1, 0.1}}, f64);
  REQUIRE_THROWS_WITH(holed->piece_distance(x, {"circle"}),
                      Catch::Contains("piece distances are not available for") &&
                          Catch::Contains("use a soft condition"));
  // The whole boundary is always available: it is the domain's distance.
  auto names = holed->boundary_names();
  REQUIRE(max_abs(holed->piece_distance(x, names) - holed->distance(x)) == 0.0);
  REQUIRE(max_abs(disk->piece_distance(x, {"circle"}) - disk->distance(x)) == 0.0);
  REQUIRE_THROWS_AS(square->piece_distance(x, {"lid"}), GeometryError);
  REQUIRE_THROWS_WITH(square->piece_distance(x, {"lid"}), Catch::Contains("x_min"));
  REQUIRE_THROWS_WITH(disk->piece_distance(x, {"lid"}), Catch::Contains("no boundary piece named 'lid'"));
}
