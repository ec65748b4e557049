// CSG: measures against exact values, true boundary points only, normals flipped on holes, empty results.
#include <catch2/catch.hpp>

#include "geometry/ball.h"
#include "geometry/box.h"
#include "geometry/csg.h"
#include "geometry/error.h"

#include "tests/geometry/helpers.h"

#include <cmath>

using namespace physis::geometry;
using physis::test::disk;
using physis::test::poisson2d_c;

namespace {

const auto f64 = torch::TensorOptions().dtype(torch::kFloat64);

}  // namespace

TEST_CASE("Poisson2d-C area and perimeter match the exact values", "[geometry][csg]") {
  auto domain = poisson2d_c();
  REQUIRE_FALSE(domain->measure_is_exact());
  REQUIRE(domain->measure() == Approx(1 - 4 * M_PI * 0.01).epsilon(1e-3));
  REQUIRE(domain->boundary_measure() == Approx(4 + 4 * 2 * M_PI * 0.1).epsilon(1e-3));
  // Independent check: the fraction of the square's points inside the domain.
  Sampler sampler(SamplerOptions().kind(SamplerKind::sobol).seed(9), f64);
  auto x = Box({-0.5, -0.5}, {0.5, 0.5}).sample_interior(1 << 16, sampler);
  REQUIRE(domain->inside(x).to(torch::kFloat64).mean().item<double>() == Approx(1 - 4 * M_PI * 0.01).epsilon(2e-3));
}

TEST_CASE("CSG boundary keeps only true boundary points with outward normals", "[geometry][csg]") {
  auto domain = poisson2d_c();
  REQUIRE(domain->boundary_names() == std::vector<std::string>{"outer", "hole"});
  Sampler sampler(SamplerOptions().seed(5), f64);
  auto b = domain->sample_boundary(4000, sampler);
  REQUIRE(b.size() == 4000);
  REQUIRE(domain->on_boundary(b.points, 1e-9).all().item<bool>());
  REQUIRE(domain->inside(b.points).all().item<bool>());
  // Hole points: normals point towards the hole's center (out of the domain).
  auto on_hole = b.mask("hole");
  auto hole_points = b.points.index({on_hole});
  auto centers = hole_points.sign() * 0.3;
  auto towards_center = (centers - hole_points) / 0.1;
  REQUIRE(torch::allclose(b.normals.index({on_hole}), towards_center, 1e-9, 1e-9));
  REQUIRE_FALSE(domain->inside(b.points + 1e-4 * b.normals).any().item<bool>());
  REQUIRE(domain->interior(b.points - 1e-4 * b.normals, 1e-6).all().item<bool>());
  // Uniform by length: the holes carry 2.513 / 6.513 of the boundary.
  REQUIRE(on_hole.to(torch::kFloat64).mean().item<double>() == Approx(0.8 * M_PI / (4 + 0.8 * M_PI)).margin(0.02));
  REQUIRE(domain->distance(b.points).abs().max().item<double>() < 1e-9);
  auto inner = domain->sample_interior(4000, sampler);
  REQUIRE(domain->inside(inner).all().item<bool>());
  REQUIRE((domain->distance(inner) > 0).all().item<bool>());
}

TEST_CASE("overlapping union and intersection have the exact area and clean boundaries", "[geometry][csg]") {
  // Two unit disks whose centers are 1 apart: lens area 2 pi/3 - sqrt(3)/2.
  auto a = disk(0, 0, 1, "a"), b = disk(1, 0, 1, "b");
  const double lens = 2 * M_PI / 3 - std::sqrt(3.0) / 2;
  REQUIRE(csg_intersection(a, b)->measure() == Approx(lens).epsilon(1e-3));
  REQUIRE(csg_union(a, b)->measure() == Approx(2 * M_PI - lens).epsilon(1e-3));
  // Union boundary: each arc is 2/3 of its circle.
  REQUIRE(csg_union(a, b)->boundary_measure() == Approx(2 * 2 * M_PI * 2 / 3).epsilon(1e-3));
  Sampler sampler(SamplerOptions().seed(6), f64);
  auto inter = csg_intersection(a, b);
  auto pts = inter->sample_boundary(1000, sampler);
  REQUIRE(inter->on_boundary(pts.points, 1e-9).all().item<bool>());
  REQUIRE_FALSE(inter->inside(pts.points + 1e-4 * pts.normals).any().item<bool>());
  auto u = csg_union(a, b);
  auto x = u->sample_interior(20000, sampler);
  // Uniform on the union: the lens holds lens / |union| of the points (not twice as many).
  auto in_lens = a->inside(x).logical_and(b->inside(x)).to(torch::kFloat64).mean().item<double>();
  REQUIRE(in_lens == Approx(lens / (2 * M_PI - lens)).margin(0.015));
}

TEST_CASE("nested CSG in 3-D", "[geometry][csg]") {
  auto cube = std::make_shared<Box>(std::vector<double>{0, 0, 0}, std::vector<double>{1, 1, 1});
  auto ball = std::make_shared<Ball>(std::vector<double>{1, 1, 0}, 0.5);
  auto slab = std::make_shared<Box>(std::vector<double>{0, 0, 0}, std::vector<double>{1, 1, 0.5});
  auto shape = csg_intersection(csg_difference(cube, ball), slab);  // an eighth of the ball, below z = 0.5
  const double eighth_ball = M_PI * 0.125 / 6;                    // (4/3 pi r^3) / 8
  REQUIRE(shape->measure() == Approx(0.5 - eighth_ball).epsilon(2e-3));
  Sampler sampler(SamplerOptions().seed(7), f64);
  auto b = shape->sample_boundary(2000, sampler);
  REQUIRE(shape->on_boundary(b.points, 1e-9).all().item<bool>());
  REQUIRE_FALSE(shape->inside(b.points + 1e-5 * b.normals).any().item<bool>());
}

TEST_CASE("an empty difference fails with a clear error", "[geometry][csg][errors]") {
  auto small = disk(0, 0, 0.5, "small"), big = disk(0, 0, 1, "big");
  auto empty = csg_difference(small, big);
  Sampler sampler(SamplerOptions().seed(8), f64);
  REQUIRE_THROWS_WITH(empty->sample_interior(10, sampler), Catch::Contains("empty"));
  REQUIRE_THROWS_AS(empty->sample_boundary(10, sampler), GeometryError);
  REQUIRE(empty->measure() == Approx(0.0).margin(1e-12));
  auto cube3 = std::make_shared<Box>(std::vector<double>{0, 0, 0}, std::vector<double>{1, 1, 1});
  REQUIRE_THROWS_WITH(csg_union(small, cube3), Catch::Contains("one dimension"));
}
