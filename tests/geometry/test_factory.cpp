// YAML factory: every kind, CSG trees, boundary renames, errors with file:line:column.
#include <catch2/catch.hpp>

#include "core/config.h"
#include "geometry/adf.h"
#include "geometry/factory.h"
#include "geometry/space_time.h"
#include "tests/derivatives.h"

#include <torch/autograd.h>

#include <cmath>
#include <functional>

using namespace physis::geometry;
using physis::config::ConfigError;
using physis::config::Section;
using physis::test::fourth_derivative;

namespace {

GeometryPtr from_yaml(const std::string& text) {
  auto root = Section::load_string(text, "problem.yaml");
  auto g = geometry_from_config(root.child("geometry"));
  root.finish();
  return g;
}

// |d^4/dx^4 of phi^2| at one point (a clamped condition's factor).
double fourth_x_derivative_of_square(const Geometry& g, const torch::Tensor& at) {
  return std::abs(fourth_derivative([&](const torch::Tensor& p) { return g.distance(p).square(); }, at, 0));
}

// The shape `kind: {fields}` with `distance: product` and without: the product distance equals `expected(x)` at the
// points x, and next to the corner at the origin (2e-3 from it, off the diagonal) the fourth derivative along x of
// phi^2 (a clamped condition's factor) is bounded for the product and large for the R-equivalence, which is
// homogeneous of degree 1 there. Returns the shape with the product distance.
GeometryPtr check_product_distance(const std::string& kind, const std::string& fields, const torch::Tensor& x,
                                   const std::function<torch::Tensor(torch::Tensor, torch::Tensor)>& expected) {
  auto product = from_yaml("geometry:\n  " + kind + ": {" + fields + ", distance: product}\n");
  auto plain = from_yaml("geometry:\n  " + kind + ": {" + fields + "}\n");
  REQUIRE(torch::allclose(product->distance(x), expected(x.select(1, 0), x.select(1, 1))));
  auto corner = torch::tensor({{1e-3, 2e-3}}, torch::kFloat64);
  CHECK(fourth_x_derivative_of_square(*product, corner) < 10);
  CHECK(fourth_x_derivative_of_square(*plain, corner) > 1e3);
  return product;
}

}  // namespace

TEST_CASE("the PINNacle Poisson2d-C domain from YAML", "[geometry][factory]") {
  auto domain = from_yaml(R"(
geometry:
  difference:
    - rectangle: {min: [-0.5, -0.5], max: [0.5, 0.5], boundary: outer}
    - union:
        - disk: {center: [0.3, 0.3], radius: 0.1, boundary: hole}
        - disk: {center: [-0.3, 0.3], radius: 0.1, boundary: hole}
        - disk: {center: [0.3, -0.3], radius: 0.1, boundary: hole}
        - disk: {center: [-0.3, -0.3], radius: 0.1, boundary: hole}
)");
  REQUIRE(domain->dim() == 2);
  REQUIRE(domain->boundary_names() == std::vector<std::string>{"outer", "hole"});
  REQUIRE(domain->measure() == Approx(1 - 4 * M_PI * 0.01).epsilon(1e-3));
}

TEST_CASE("every primitive kind builds from YAML", "[geometry][factory]") {
  struct Case { std::string yaml; int64_t dim; double measure; };
  std::vector<Case> cases{
      {"interval: {min: -1, max: 2}", 1, 3.0},
      {"time_interval: {t0: 0, t1: 5}", 1, 5.0},
      {"box: {min: [0, 0, 0], max: [1, 2, 3]}", 3, 6.0},
      {"hypercube: {dim: 10, min: 0, max: 2}", 10, 1024.0},
      {"ball: {center: [0, 0, 0], radius: 1}", 3, 4 * M_PI / 3},
      {"hyperball: {dim: 4, radius: 1}", 4, M_PI * M_PI / 2},
      {"ellipse: {center: [0, 0], semi_axes: [2, 1], angle: 0.5}", 2, 2 * M_PI},
      {"triangle: {vertices: [[0, 0], [1, 0], [0, 1]]}", 2, 0.5},
      {"polygon: {vertices: [[0, 0], [2, 0], [2, 1], [1, 1], [1, 2], [0, 2]]}", 2, 3.0},
      {"space_time: {space: {disk: {center: [0, 0], radius: 1}}, time: [0, 2]}", 3, 2 * M_PI},
      {"intersection: [{disk: {center: [0, 0], radius: 1}}, {rectangle: {min: [0, 0], max: [2, 2]}}]", 2, M_PI / 4},
  };
  for (const auto& c : cases) {
    INFO(c.yaml);
    auto g = from_yaml("geometry:\n  " + c.yaml + "\n");
    REQUIRE(g->dim() == c.dim);
    REQUIRE(g->measure() == Approx(c.measure).epsilon(2e-3));
  }
  auto named =
      from_yaml("geometry:\n  rectangle: {min: [0, 0], max: [1, 1], boundary: {x_min: inlet, x_max: outlet}}\n");
  REQUIRE(named->boundary_names() == std::vector<std::string>{"inlet", "outlet", "y_min", "y_max"});
  auto st = std::dynamic_pointer_cast<const SpaceTime>(
      from_yaml("geometry:\n  space_time: {space: {interval: {min: 0, max: 1}}, time: [0, 1]}\n"));
  REQUIRE(st);
  REQUIRE(st->coordinate_names() == std::vector<std::string>{"x", "t"});
}

TEST_CASE("YAML mistakes name the file, line and column", "[geometry][factory][errors]") {
  REQUIRE_THROWS_WITH(from_yaml("geometry:\n  dsk: {center: [0, 0], radius: 1}\n"),
                      Catch::Contains("problem.yaml:2:") && Catch::Contains("unknown geometry 'dsk'"));
  REQUIRE_THROWS_WITH(from_yaml("geometry:\n  disk: {center: [0, 0], radius: 1, radios: 2}\n"),
                      Catch::Contains("unknown key") && Catch::Contains("radios"));
  REQUIRE_THROWS_WITH(from_yaml("geometry:\n  disk: {center: [0, 0, 0], radius: 1}\n"),
                      Catch::Contains("needs 2 numbers"));
  REQUIRE_THROWS_WITH(from_yaml("geometry:\n  polygon: {vertices: [[0, 0], [1, 1], [1, 0], [0, 1]]}\n"),
                      Catch::Contains("problem.yaml:2:") && Catch::Contains("self-intersecting"));
  REQUIRE_THROWS_WITH(from_yaml("geometry:\n  union: [{disk: {center: [0, 0], radius: 1}}]\n"),
                      Catch::Contains("at least two"));
  REQUIRE_THROWS_AS(from_yaml("geometry:\n  disk: {center: [0, 0], radius: 1}\n  box: {min: [0], max: [1]}\n"),
                    ConfigError);
  REQUIRE_THROWS_WITH(from_yaml("geometry:\n  rectangle: {min: [0, 0], max: [1, 1], boundary: {left: inlet}}\n"),
                      Catch::Contains("x_min"));
}

TEST_CASE("a box's product distance: a polynomial, smooth at the corners where the R-equivalence's is not",
          "[geometry][factory]") {
  auto product = check_product_distance(
      "rectangle", "min: [0, 0], max: [2, 1]",
      torch::tensor({{0.5, 0.25}, {1.0, 0.5}, {1e-3, 2e-3}, {1.999, 0.999}}, torch::kFloat64),
      [](const torch::Tensor& px, const torch::Tensor& py) { return px * (2 - px) / 2 * py * (1 - py); });
  auto edge = torch::tensor({{0.0, 0.3}, {2.0, 0.7}, {0.4, 0.0}, {1.2, 1.0}}, torch::kFloat64);
  REQUIRE(product->distance(edge).abs().max().item<double>() == 0.0);
  CHECK_THROWS_WITH(from_yaml("geometry:\n  rectangle: {min: [0, 0], max: [1, 1], distance: smooth}\n"),
                    Catch::Contains("problem.yaml:2:") && Catch::Contains("expected r_equivalence or product"));
}

TEST_CASE("product distances of pieces: products of the faces' or edges' distances, joined by product",
          "[geometry][factory]") {
  auto x = torch::tensor({{0.5, 0.25}, {1.0, 0.5}, {1e-3, 2e-3}, {1.9, 0.9}}, torch::kFloat64);
  const auto px = x.select(1, 0), py = x.select(1, 1);
  // A rectangle [0, 2] x [0, 1]: each face's distance over the square root of its axis' length.
  auto box = from_yaml("geometry:\n  rectangle: {min: [0, 0], max: [2, 1], distance: product}\n");
  REQUIRE(torch::allclose(box->piece_distance(x, {"x_min"}), px / std::sqrt(2.0)));
  REQUIRE(torch::allclose(box->piece_distance(x, {"x_min", "y_max"}), px / std::sqrt(2.0) * (1 - py)));
  // However the faces are grouped, the groups' join is the box's distance.
  const auto whole = box->distance(x);
  REQUIRE(torch::allclose(box->join_distances(torch::stack(
                              {box->piece_distance(x, {"x_min", "x_max"}), box->piece_distance(x, {"y_min", "y_max"})}, 1)),
                          whole));
  REQUIRE(torch::allclose(box->join_distances(torch::stack(
                              {box->piece_distance(x, {"x_min"}), box->piece_distance(x, {"x_max", "y_min", "y_max"})}, 1)),
                          whole));
  // The default distance keeps the R-equivalence for pieces and joins: not the product.
  auto plain = from_yaml("geometry:\n  rectangle: {min: [0, 0], max: [2, 1]}\n");
  const auto halves = torch::stack({plain->piece_distance(x, {"x_min"}), plain->piece_distance(x, {"y_min"})}, 1);
  REQUIRE(torch::allclose(plain->join_distances(halves), r_equivalence(halves)));
  REQUIRE_FALSE(torch::allclose(plain->join_distances(halves), halves.prod(1)));
  // The triangle (0, 0), (0, 1), (2, 0): edge0 on x = 0, edge1 on x + 2y = 2, edge2 on y = 0; line distances.
  auto triangle = from_yaml("geometry:\n  triangle: {vertices: [[0, 0], [0, 1], [2, 0]], distance: product}\n");
  auto inner = torch::tensor({{0.5, 0.25}, {1.0, 0.2}, {1e-3, 2e-3}}, torch::kFloat64);
  const auto qx = inner.select(1, 0), qy = inner.select(1, 1);
  REQUIRE(torch::allclose(triangle->piece_distance(inner, {"edge1"}), (2 - qx - 2 * qy) / std::sqrt(5.0)));
  REQUIRE(torch::allclose(triangle->piece_distance(inner, {"edge0", "edge2"}), qx * qy));
  REQUIRE(torch::allclose(triangle->join_distances(torch::stack({triangle->piece_distance(inner, {"edge1"}),
                                                                 triangle->piece_distance(inner, {"edge0", "edge2"})}, 1)),
                          triangle->distance(inner)));
  // Single precision keeps the fourth derivatives next to an edge: the products are plain multiplications, not
  // torch::prod, whose backward divides by the factors (there the float32 value read 16 against 5e-8).
  auto square = from_yaml("geometry:\n  rectangle: {min: [0, 0], max: [1, 1], distance: product}\n");
  const auto near_edge = torch::tensor({{0.2014, 0.9994}}, torch::kFloat64);
  const std::vector<std::function<torch::Tensor(const torch::Tensor&)>> products{
      [&](const torch::Tensor& q) { return square->distance(q).square(); },
      [&](const torch::Tensor& q) {
        return square->join_distances(
            torch::stack({square->piece_distance(q, {"x_min", "x_max"}), square->piece_distance(q, {"y_min", "y_max"})}, 1)) *
            square->piece_distance(q, {"x_min", "x_max"});
      }};
  for (const auto& f : products) {
    const double exact = fourth_derivative(f, near_edge, 1);
    CHECK(std::abs(fourth_derivative(f, near_edge, 1, torch::kFloat32) - exact) < 1e-2 * (1 + std::abs(exact)));
  }
}

TEST_CASE("a convex polygon's product distance: zero on the edges, smooth at the vertices; refused if not convex",
          "[geometry][factory]") {
  // The triangle (0, 0), (2, 0), (0, 1), listed clockwise on purpose: lines y = 0, x = 0 and x + 2y = 2.
  // The corner at the origin is the right-angle vertex.
  auto product = check_product_distance(
      "triangle", "vertices: [[0, 0], [0, 1], [2, 0]]",
      torch::tensor({{0.5, 0.25}, {1.0, 0.2}, {1e-3, 2e-3}, {0.2, 0.8}}, torch::kFloat64),
      [](const torch::Tensor& px, const torch::Tensor& py) { return px * py * (2 - px - 2 * py) / std::sqrt(5.0); });
  auto edge = torch::tensor({{0.7, 0.0}, {0.0, 0.4}, {1.0, 0.5}}, torch::kFloat64);
  REQUIRE(product->distance(edge).abs().max().item<double>() < 1e-15);
  REQUIRE(product->distance(torch::tensor({{1.5, 1.5}, {-0.5, -0.5}}, torch::kFloat64)).max().item<double>() < 0);
  // The gradient on an edge is the product of the other lines' distances times the edge's inward normal.
  auto on = torch::tensor({{0.5, 0.0}}, torch::kFloat64).requires_grad_(true);
  auto grad = torch::autograd::grad({product->distance(on).sum()}, {on})[0];
  REQUIRE(grad[0][0].item<double>() == Approx(0.0).margin(1e-15));
  REQUIRE(grad[0][1].item<double>() == Approx(0.5 * 1.5 / std::sqrt(5.0)).epsilon(1e-12));
  CHECK_THROWS_WITH(
      from_yaml("geometry:\n  polygon: {vertices: [[0, 0], [2, 0], [2, 1], [1, 1], [1, 2], [0, 2]], distance: product}\n"),
      Catch::Contains("problem.yaml:2:") && Catch::Contains("needs a convex polygon"));
}
