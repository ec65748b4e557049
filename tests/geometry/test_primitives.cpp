// Primitives: inside/on_boundary consistency, outward unit normals, distance sign, exact measures.
#include <catch2/catch.hpp>

#include "geometry/ball.h"
#include "geometry/box.h"
#include "geometry/ellipse.h"
#include "geometry/error.h"
#include "geometry/polygon.h"
#include "geometry/space_time.h"

#include <cmath>

using namespace physis::geometry;

namespace {

const auto f64 = torch::TensorOptions().dtype(torch::kFloat64);

// The properties every geometry must have, checked on its own samples.
void check_geometry(const Geometry& g, double step = 1e-4) {
  Sampler sampler(SamplerOptions().seed(1), f64);
  auto x = g.sample_interior(2000, sampler);
  REQUIRE(x.sizes() == torch::IntArrayRef({2000, g.dim()}));
  REQUIRE(g.inside(x).all().item<bool>());
  REQUIRE((g.distance(x) > -1e-12).all().item<bool>());
  auto b = g.sample_boundary(2000, sampler);
  REQUIRE(b.points.sizes() == torch::IntArrayRef({2000, g.dim()}));
  REQUIRE(b.piece.min().item<int64_t>() >= 0);
  REQUIRE(b.piece.max().item<int64_t>() < static_cast<int64_t>(g.boundary_names().size()));
  REQUIRE(g.on_boundary(b.points, 1e-9).all().item<bool>());
  REQUIRE(g.inside(b.points).all().item<bool>());  // the domain is closed
  auto norms = torch::linalg_vector_norm(b.normals, 2, {1});
  REQUIRE(torch::allclose(norms, torch::ones_like(norms), 1e-10, 1e-10));
  // Outward: a small step along the normal leaves the domain, a step against it enters it.
  REQUIRE_FALSE(g.inside(b.points + step * b.normals).any().item<bool>());
  // (Inward with a much smaller step: near an acute corner a step of `step` could cross the other side.)
  auto inward = b.points - step / 100 * b.normals;
  INFO("not interior: " << inward.index({g.interior(inward, step / 1000).logical_not()}).slice(0, 0, 3));
  REQUIRE(g.interior(inward, step / 1000).all().item<bool>());
  REQUIRE(g.distance(b.points).abs().max().item<double>() < 1e-9);
  REQUIRE((g.distance(inward) > 0).all().item<bool>());
}

}  // namespace

TEST_CASE("box, ball, ellipse, polygon, triangle satisfy the geometry contract", "[geometry][primitives]") {
  check_geometry(Box({-0.5, -0.5}, {0.5, 0.5}));
  check_geometry(Box({0, 0, 0}, {1, 2, 3}));
  check_geometry(Box({-1}, {2}));
  check_geometry(Ball({0.3, 0.3}, 0.1), 1e-5);
  check_geometry(Ball({0, 0, 0, 0, 0}, 2.0));
  check_geometry(Ellipse({1, 2}, 2.0, 0.5, 0.3), 1e-5);
  check_geometry(Polygon({{0, 0}, {2, 0}, {2, 1}, {1, 1}, {1, 2}, {0, 2}}));
  check_geometry(Polygon({{0, 0}, {0, 2}, {2, 0}}));  // clockwise triangle
}

TEST_CASE("primitive measures match exact values", "[geometry][primitives]") {
  REQUIRE(Box({0, 0, 0}, {1, 2, 3}).measure() == Approx(6.0));
  REQUIRE(Box({0, 0, 0}, {1, 2, 3}).boundary_measure() == Approx(22.0));
  REQUIRE(Ball({0, 0}, 2.0).measure() == Approx(4 * M_PI));
  REQUIRE(Ball({0, 0, 0}, 1.0).boundary_measure() == Approx(4 * M_PI));
  REQUIRE(Ellipse({0, 0}, 1.0, 1.0).boundary_measure() == Approx(2 * M_PI));
  REQUIRE(Ellipse({0, 0}, 3.0, 1.0).boundary_measure() == Approx(13.3648932206).epsilon(1e-9));
  REQUIRE(Polygon({{0, 0}, {2, 0}, {2, 1}, {1, 1}, {1, 2}, {0, 2}}).measure() == Approx(3.0));
}

TEST_CASE("boundary points are uniform by length over pieces", "[geometry][primitives]") {
  // Rectangle 3 x 1: the long sides carry 3/8 of the boundary each.
  Box box({0, 0}, {3, 1});
  Sampler sampler(SamplerOptions().seed(4), f64);
  auto b = box.sample_boundary(40000, sampler);
  const double bottom = b.mask("y_min").to(torch::kFloat64).mean().item<double>();
  const double left = b.mask("x_min").to(torch::kFloat64).mean().item<double>();
  REQUIRE(bottom == Approx(3.0 / 8).margin(0.01));
  REQUIRE(left == Approx(1.0 / 8).margin(0.01));
  // Ellipse: uniform by arc length, so the flat sides (|x| small) get more than uniform-angle points would.
  Ellipse ellipse({0, 0}, 3.0, 1.0);
  auto e = ellipse.sample_boundary(40000, sampler);
  const double near_axis = (e.points.select(1, 0).abs() < 1.0).to(torch::kFloat64).mean().item<double>();
  // Arc-length fraction of |x| < 1 on the 3 x 1 ellipse (numerical quadrature): 0.29994; a uniform angle
  // would give 0.2164.
  REQUIRE(near_axis == Approx(0.29994).margin(0.01));
}

TEST_CASE("renamed pieces merge and unknown names are rejected", "[geometry][primitives]") {
  Box box({0, 0}, {1, 1});
  box.rename_boundary({{"x_min", "wall"}, {"x_max", "wall"}});
  REQUIRE(box.boundary_names() == std::vector<std::string>{"wall", "y_min", "y_max"});
  REQUIRE_THROWS_AS(box.rename_boundary({{"left", "inlet"}}), GeometryError);
  REQUIRE(Box::time_interval(0, 1)->boundary_names() == std::vector<std::string>{"initial", "final"});
}

TEST_CASE("bad polygons give clear errors", "[geometry][primitives][errors]") {
  REQUIRE_THROWS_WITH(Polygon({{0, 0}, {1, 1}, {1, 0}, {0, 1}}), Catch::Contains("self-intersecting"));
  REQUIRE_THROWS_WITH(Polygon({{0, 0}, {1, 0}}), Catch::Contains("at least 3"));
  REQUIRE_THROWS_WITH(Polygon({{0, 0}, {1, 0}, {2, 0}}), Catch::Contains("zero area"));
  REQUIRE_THROWS_AS(Box({0, 0}, {1, -1}), GeometryError);
  REQUIRE_THROWS_AS(Ball({0, 0}, 0.0), std::runtime_error);
}

TEST_CASE("high-dimensional ball and cube sample at N = 100000", "[geometry][primitives][highdim]") {
  const int64_t n = 100000;
  auto ball = Ball::hyperball(n, 1.0);
  Sampler sampler(SamplerOptions().seed(2), f64);
  auto x = ball->sample_interior(16, sampler);                                  // [16, 1e5]
  REQUIRE(x.sizes() == torch::IntArrayRef({16, n}));
  auto r = torch::linalg_vector_norm(x, 2, {1});
  REQUIRE((r <= 1).all().item<bool>());
  // Volume concentrates at the surface: r = u^(1/N) > 0.999 with probability 1 - 0.999^N ~ 1.
  REQUIRE((r > 0.999).all().item<bool>());
  REQUIRE(ball->inside(x).all().item<bool>());
  REQUIRE((ball->distance(x) > 0).all().item<bool>());
  auto cube = Box::hypercube(n, 0.0, 1.0);
  auto b = cube->sample_boundary(16, sampler);
  REQUIRE(cube->on_boundary(b.points, 1e-12).all().item<bool>());
  REQUIRE(cube->inside(cube->sample_interior(16, sampler)).all().item<bool>());
  REQUIRE((cube->distance(cube->sample_interior(16, sampler)) > 0).all().item<bool>());
}

TEST_CASE("space-time products sample the lateral boundary and the initial slice", "[geometry][time]") {
  SpaceTime domain(std::make_shared<Ball>(std::vector<double>{0, 0}, 1.0), 0.0, 2.0);
  Sampler sampler(SamplerOptions().seed(3), f64);
  REQUIRE(domain.dim() == 3);
  REQUIRE(domain.coordinate_names() == std::vector<std::string>{"x", "y", "t"});
  auto x = domain.sample_interior(500, sampler);
  REQUIRE(domain.inside(x).all().item<bool>());
  REQUIRE(x.select(1, 2).max().item<double>() <= 2.0);
  auto x0 = domain.sample_initial(100, sampler);
  REQUIRE((x0.select(1, 2) == 0).all().item<bool>());
  REQUIRE((domain.initial_distance(x0) == 0).all().item<bool>());
  auto b = domain.sample_boundary(200, sampler);
  REQUIRE(domain.on_boundary(b.points, 1e-9).all().item<bool>());
  REQUIRE((b.normals.select(1, 2) == 0).all().item<bool>());
  REQUIRE(domain.measure() == Approx(2 * M_PI));
}
