// Distance functions and transfinite interpolation: zero sets, normalisation, finite derivatives at corners.
#include <catch2/catch.hpp>

#include "geometry/adf.h"
#include "geometry/ball.h"
#include "geometry/box.h"
#include "geometry/csg.h"
#include "geometry/polygon.h"

#include <cmath>

using namespace physis::geometry;

namespace {

const auto f64 = torch::TensorOptions().dtype(torch::kFloat64);

// First derivatives [N, d] and second derivatives [N, d, d] of phi at x by autograd.
std::pair<torch::Tensor, torch::Tensor> derivatives(const std::function<torch::Tensor(const torch::Tensor&)>& phi,
                                                    torch::Tensor x) {
  x = x.clone().requires_grad_(true);
  auto grad = torch::autograd::grad({phi(x).sum()}, {x}, {}, true, true)[0];      // [N, d]
  std::vector<torch::Tensor> rows;
  for (int64_t k = 0; k < x.size(1); ++k)
    rows.push_back(torch::autograd::grad({grad.select(1, k).sum()}, {x}, {}, true, false, true)[0]);
  return {grad, torch::stack(rows, 1)};
}

bool finite(const torch::Tensor& t) { return torch::isfinite(t).all().item<bool>(); }

}  // namespace

TEST_CASE("segment and arc ADFs vanish exactly on their curve and are normalised", "[geometry][adf]") {
  auto x = torch::tensor({{0.5, 0.0}, {0.5, 1e-3}, {0.5, -1e-3}, {2.0, 0.0}}, f64);
  auto phi = segment_adf(x, {0, 0}, {1, 0});
  REQUIRE(phi[0].item<double>() < 1e-12);
  REQUIRE(phi[1].item<double>() == Approx(1e-3).epsilon(1e-3));
  REQUIRE(phi[2].item<double>() == Approx(1e-3).epsilon(1e-3));
  REQUIRE(phi[3].item<double>() > 0.5);  // on the line but beyond the segment: trimmed away
  Arc quarter{{0, 0}, 1.0, 0.0, M_PI / 2};
  auto on_arc = torch::tensor({{std::cos(0.3), std::sin(0.3)}, {std::cos(1.2), std::sin(1.2)}}, f64);
  REQUIRE(arc_adf(on_arc, quarter).abs().max().item<double>() < 1e-7);
  auto on_circle_not_arc = torch::tensor({{-1.0, 0.0}, {0.0, -1.0}}, f64);
  REQUIRE((arc_adf(on_circle_not_arc, quarter) > 0.1).all().item<bool>());
  auto near = torch::tensor({{0.99 * std::cos(0.7), 0.99 * std::sin(0.7)}}, f64);
  REQUIRE(arc_adf(near, quarter).item<double>() == Approx(0.01).epsilon(0.02));
}

TEST_CASE("ADF derivatives stay finite 1e-6 from corners", "[geometry][adf]") {
  Polygon l_shape({{0, 0}, {2, 0}, {2, 1}, {1, 1}, {1, 2}, {0, 2}});
  auto square = std::make_shared<Box>(std::vector<double>{0, 0}, std::vector<double>{1, 1});
  auto cut = csg_difference(square, std::make_shared<Ball>(std::vector<double>{1, 1}, 0.5));
  const double e = 1e-6;
  // Convex corner, reentrant corner, box corner, and where the hole's arc meets the square's edge.
  auto near_corners = torch::tensor({{e, e}, {1 - e, 1 + e}, {1 + e, 1 - e}, {2 - e, e}}, f64);
  auto box_corners = torch::tensor({{e, e}, {1 - e, e}, {e, 1 - e}}, f64);
  auto csg_corners = torch::tensor({{0.5 - e, 1 - e}, {1 - e, 0.5 - e}, {e, 1 - e}}, f64);
  struct Case { std::function<torch::Tensor(const torch::Tensor&)> phi; torch::Tensor x; };
  std::vector<Case> cases{{[&](const torch::Tensor& x) { return l_shape.distance(x); }, near_corners},
                          {[&](const torch::Tensor& x) { return square->distance(x); }, box_corners},
                          {[&](const torch::Tensor& x) { return cut->distance(x); }, csg_corners}};
  for (const auto& c : cases) {
    REQUIRE((c.phi(c.x) > 0).all().item<bool>());
    auto [grad, hessian] = derivatives(c.phi, c.x);
    REQUIRE(finite(grad));
    REQUIRE(finite(hessian));
    REQUIRE(grad.abs().max().item<double>() > 0);
  }
}

TEST_CASE("polygon ADF gradient matches finite differences and is unit on the edges", "[geometry][adf]") {
  Polygon triangle({{0, 0}, {1, 0}, {0, 1}});
  auto phi = [&](const torch::Tensor& x) { return triangle.distance(x); };
  auto x = torch::tensor({{0.2, 0.3}, {0.5, 1e-4}}, f64);
  auto [grad, hessian] = derivatives(phi, x);
  const double h = 1e-6;
  for (int64_t k = 0; k < 2; ++k) {
    auto dx = torch::zeros({1, 2}, f64);
    dx[0][k] = h;
    auto fd = (phi(x + dx) - phi(x - dx)) / (2 * h);
    REQUIRE(torch::allclose(grad.select(1, k), fd, 1e-5, 1e-7));
  }
  // Near the middle of the bottom edge the ADF behaves like the distance y: gradient (0, 1).
  REQUIRE(grad[1][0].item<double>() == Approx(0).margin(1e-3));
  REQUIRE(grad[1][1].item<double>() == Approx(1).epsilon(1e-3));
  REQUIRE(finite(hessian));
}

TEST_CASE("R-functions: conjunction/disjunction zero sets and the smooth minimum", "[geometry][adf]") {
  auto a = torch::tensor({0.0, 1.0, -1.0, 2.0}, f64), b = torch::tensor({3.0, 0.0, 2.0, 2.0}, f64);
  auto conj = r0_conjunction(a, b), disj = r0_disjunction(a, b);
  REQUIRE(conj[0].item<double>() == Approx(0).margin(1e-12));
  REQUIRE(conj[2].item<double>() < 0);             // outside one operand: outside the intersection
  REQUIRE(disj[2].item<double>() > 0);             // inside the other: inside the union
  auto phis = torch::tensor({{1.0, 1.0}, {0.5, 10.0}, {0.0, 1.0}}, f64);
  auto eq = r_equivalence(phis, 2.0);
  REQUIRE(eq[0].item<double>() == Approx(1 / std::sqrt(2.0)));
  REQUIRE(eq[1].item<double>() == Approx(0.5).epsilon(0.01));
  REQUIRE(eq[2].item<double>() == 0);
}

TEST_CASE("transfinite interpolation reproduces piecewise boundary data", "[geometry][adf][tfi]") {
  // Unit square with data g = 1 on the bottom, x on the right, 0 on the top, y^2 on the left.
  auto values_at = [](const torch::Tensor& x) {
    auto xs = x.select(1, 0), ys = x.select(1, 1);
    return torch::stack({torch::ones_like(xs), xs, torch::zeros_like(xs), ys.pow(2)}, 1);   // [N, 4]
  };
  auto phis_at = [](const torch::Tensor& x) {
    return torch::stack({segment_adf(x, {0, 0}, {1, 0}), segment_adf(x, {1, 0}, {1, 1}),
                         segment_adf(x, {1, 1}, {0, 1}), segment_adf(x, {0, 1}, {0, 0})}, 1);  // [N, 4]
  };
  auto bottom = torch::tensor({{0.3, 0.0}, {0.7, 0.0}}, f64);
  auto right = torch::tensor({{1.0, 0.4}}, f64);
  auto left = torch::tensor({{0.0, 0.5}}, f64);
  auto tfi = [&](const torch::Tensor& x) { return transfinite_interpolation(phis_at(x), values_at(x)); };
  REQUIRE(torch::allclose(tfi(bottom), torch::ones({2}, f64)));
  REQUIRE(tfi(right).item<double>() == Approx(1.0));
  REQUIRE(tfi(left).item<double>() == Approx(0.25));
  auto inner = torch::tensor({{0.5, 0.5}, {1e-6, 1e-6}, {1 - 1e-6, 1 - 1e-6}}, f64);
  auto value = tfi(inner);
  REQUIRE(value[0].item<double>() > 0);
  REQUIRE(value[0].item<double>() < 1);
  auto [grad, hessian] = derivatives(tfi, inner);
  REQUIRE(finite(grad));
  REQUIRE(finite(hessian));
}
