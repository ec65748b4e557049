// Differential operators against analytic derivatives (float64, 1e-8).
#include "core/diff.h"

#include <catch2/catch.hpp>
#include <torch/types.h>

using physis::Derivatives;

namespace {
constexpr double tol = 1e-8;
double max_error(const torch::Tensor& a, const torch::Tensor& b) { return (a - b).abs().max().item<double>(); }

// u0 = sin(x) y^2 + exp(x y),  u1 = x^3 - x y   on points x = (x, y)
torch::Tensor field(const torch::Tensor& p) {
  auto x = p.select(1, 0), y = p.select(1, 1);
  return torch::stack({torch::sin(x) * y * y + torch::exp(x * y), x * x * x - x * y}, 1);
}
}  // namespace

TEST_CASE("first, mixed and second derivatives match analytic values", "[diff]") {
  torch::manual_seed(1);
  auto p = torch::rand({64, 2}, torch::kFloat64).requires_grad_(true);
  auto x = p.select(1, 0).detach(), y = p.select(1, 1).detach();
  Derivatives d(p, field(p));

  REQUIRE(max_error(d.d(0, 0), torch::cos(x) * y * y + y * torch::exp(x * y)) < tol);
  REQUIRE(max_error(d.d(0, 1), 2 * torch::sin(x) * y + x * torch::exp(x * y)) < tol);
  REQUIRE(max_error(d.d(0, 0, 0), -torch::sin(x) * y * y + y * y * torch::exp(x * y)) < tol);
  REQUIRE(max_error(d.d(0, 1, 1), 2 * torch::sin(x) + x * x * torch::exp(x * y)) < tol);
  auto uxy = 2 * torch::cos(x) * y + torch::exp(x * y) * (1 + x * y);
  REQUIRE(max_error(d.d(0, 0, 1), uxy) < tol);
  REQUIRE(max_error(d.d(0, 1, 0), uxy) < tol);  // mixed partials commute
  REQUIRE(max_error(d.d(1, {0, 0, 0}), torch::full_like(x, 6.0)) < tol);  // third order
  REQUIRE(max_error(d.d(1, 1, 1), torch::zeros_like(x)) < tol);          // no dependence: zeros, not an error
}

TEST_CASE("gradient, Laplacian and divergence", "[diff]") {
  torch::manual_seed(2);
  auto p = torch::rand({32, 2}, torch::kFloat64).requires_grad_(true);
  auto x = p.select(1, 0).detach(), y = p.select(1, 1).detach();
  Derivatives d(p, field(p));
  auto lap0 = -torch::sin(x) * y * y + y * y * torch::exp(x * y) + 2 * torch::sin(x) + x * x * torch::exp(x * y);
  REQUIRE(max_error(d.laplacian(0), lap0) < tol);
  REQUIRE(max_error(d.laplacian(1), 6 * x) < tol);
  REQUIRE(max_error(d.laplacian(0, {1}), 2 * torch::sin(x) + x * x * torch::exp(x * y)) < tol);
  auto g = d.gradient(1);
  REQUIRE(g.sizes() == torch::IntArrayRef({32, 2}));
  REQUIRE(max_error(g.select(1, 0), 3 * x * x - y) < tol);
  // div(u0, u1) = du0/dx + du1/dy
  REQUIRE(max_error(d.divergence({0, 1}), torch::cos(x) * y * y + y * torch::exp(x * y) - x) < tol);
}

TEST_CASE("derivatives keep the graph so a residual can be trained", "[diff]") {
  auto w = torch::tensor({2.0}, torch::kFloat64).requires_grad_(true);
  auto p = torch::rand({8, 1}, torch::kFloat64).requires_grad_(true);
  Derivatives d(p, (w * p * p * p));  // u = w x^3, u_xx = 6 w x
  auto loss = d.d(0, 0, 0).sum();
  loss.backward();
  REQUIRE(w.grad().item<double>() == Approx((6 * p.detach()).sum().item<double>()).epsilon(1e-12));
}

TEST_CASE("bad arguments are rejected with a message", "[diff]") {
  auto p = torch::rand({4, 2}, torch::kFloat64);
  REQUIRE_THROWS_WITH(Derivatives(p, p), Catch::Contains("requires_grad"));
  p.requires_grad_(true);
  Derivatives d(p, p * 2);
  REQUIRE_THROWS_WITH(d.d(5, 0), Catch::Contains("output 5 out of range"));
  REQUIRE_THROWS_WITH(d.d(0, 3), Catch::Contains("input 3 out of range"));
}
