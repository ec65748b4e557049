// The finite-difference Darcy solver: second-order convergence on a manufactured solution (with a negative
// control), masked versus unmasked solves, the direct and iterative solvers, piecewise-constant coefficients.
#include <catch2/catch.hpp>

#include "operators/darcy.h"
#include "operators/grf.h"

#include <cmath>

using namespace physis::ops;

namespace {

const auto f64 = torch::TensorOptions().dtype(torch::kFloat64);

// x and y of the n x n vertex grid over [0, 1]^2, [n, n] each (rows y, columns x).
std::pair<torch::Tensor, torch::Tensor> vertices(int64_t n) {
  auto t = torch::linspace(0, 1, n, f64);
  auto mesh = torch::meshgrid({t, t}, "ij");
  return {mesh[1], mesh[0]};
}

// Max-norm error of the solver against u = sin(pi x) sin(pi y) with a = 1 + x y. `drop_gradient_term` leaves out
// grad a . grad u from f, a wrong right-hand side the solver must not converge to u with.
double manufactured_error(int64_t n, bool drop_gradient_term = false) {
  auto [x, y] = vertices(n);
  auto u = torch::sin(M_PI * x) * torch::sin(M_PI * y);
  auto ux = M_PI * torch::cos(M_PI * x) * torch::sin(M_PI * y);
  auto uy = M_PI * torch::sin(M_PI * x) * torch::cos(M_PI * y);
  auto a = 1 + x * y;
  // -div(a grad u) = -(a_x u_x + a_y u_y) - a laplace(u), with laplace(u) = -2 pi^2 u.
  auto f = 2 * M_PI * M_PI * a * u;
  if (!drop_gradient_term) f = f - (y * ux + x * uy);
  return (solve_darcy(a, f) - u).abs().max().item<double>();
}

}  // namespace

TEST_CASE("the Darcy solver needs Eigen and says so", "[darcy]") {
  if (darcy_solver_available()) {
    REQUIRE_NOTHROW(DarcySolver(5));
    return;
  }
  WARN("SKIPPED: this build lacks Eigen");
  REQUIRE_THROWS_WITH(DarcySolver(5), Catch::Contains("lacks Eigen"));
}

TEST_CASE("finite-difference Darcy converges at second order on a manufactured solution", "[darcy]") {
  if (!darcy_solver_available()) {
    WARN("SKIPPED: this build lacks Eigen");
    return;
  }
  const double coarse = manufactured_error(33), fine = manufactured_error(65);
  const double order = std::log2(coarse / fine);
  INFO("errors " << coarse << " (h = 1/32), " << fine << " (h = 1/64), order " << order);
  REQUIRE(fine < 1e-3);
  REQUIRE(order > 1.8);
  REQUIRE(order < 2.2);
  // Negative control: without the grad a . grad u term the error stays O(1) and does not shrink with h.
  const double wrong = manufactured_error(65, true);
  REQUIRE(wrong > 100 * fine);
  REQUIRE(manufactured_error(33, true) / wrong < 1.5);
}

TEST_CASE("a masked solve on a sub-square equals the unmasked solve on that square", "[darcy]") {
  if (!darcy_solver_available()) {
    WARN("SKIPPED: this build lacks Eigen");
    return;
  }
  const int64_t n = 41, lo = 10, hi = 30, m = hi - lo + 1;  // vertices lo..hi of 41, i.e. [0.25, 0.75]^2
  auto [x, y] = vertices(n);
  auto a = 1.5 + torch::sin(7 * x) * torch::cos(5 * y);
  auto f = 1 + x - y * y;
  auto mask = torch::zeros({n, n}, f64);
  mask.slice(0, lo, hi + 1).slice(1, lo, hi + 1).fill_(1);
  DarcySolver masked(n, mask);
  REQUIRE(masked.unknowns() == (m - 2) * (m - 2));
  auto u = masked.solve(a, f);

  auto part = [&](const torch::Tensor& t) { return t.slice(0, lo, hi + 1).slice(1, lo, hi + 1); };
  // The m-vertex solver has h' = 1/(m - 1) = 2h, and the scaled system reads A u = h^2 f: scaling f by
  // (h / h')^2 gives the same unknowns.
  const double ratio = static_cast<double>(m - 1) / static_cast<double>(n - 1);
  auto expected = solve_darcy(part(a), part(f) * ratio * ratio);
  REQUIRE(torch::allclose(part(u), expected, 1e-12, 1e-14));
  // Outside the sub-square and on its edge, u = 0.
  REQUIRE(u.sum().item<double>() == Approx(part(u).sum().item<double>()).epsilon(1e-14));
  REQUIRE(part(u).select(0, 0).abs().max().item<double>() == 0.0);
}

TEST_CASE("direct and conjugate-gradient solves agree, warm started or not", "[darcy]") {
  if (!darcy_solver_available()) {
    WARN("SKIPPED: this build lacks Eigen");
    return;
  }
  const int64_t n = 33;
  auto [x, y] = vertices(n);
  auto a = torch::exp(torch::sin(3 * x + 2 * y));
  auto f = torch::ones({n, n}, f64);
  auto direct = solve_darcy(a, f);
  DarcySolver cg(n, {}, DarcySolverOptions().method("cg").tolerance(1e-12).warm_start(true));
  auto first = cg.solve(a, f);
  auto second = cg.solve(a * 1.01, f);  // starts from `first`
  REQUIRE(torch::allclose(first, direct, 1e-8, 1e-12));
  REQUIRE(torch::allclose(second, solve_darcy(a * 1.01, f), 1e-8, 1e-12));
  REQUIRE_THROWS_WITH(DarcySolver(n, {}, DarcySolverOptions().method("lu")), Catch::Contains("unknown method"));
  REQUIRE_THROWS_WITH(solve_darcy(-a, f), Catch::Contains("positive"));
}

TEST_CASE("piecewise-constant coefficients give a positive solution bracketed by the constant ones", "[darcy]") {
  if (!darcy_solver_available()) {
    WARN("SKIPPED: this build lacks Eigen");
    return;
  }
  const int64_t n = 43;
  auto generator = sample_generator(3, 0);
  auto g = FnoGaussianField(n).sample(generator);
  auto a = torch::where(g >= 0, 12.0, 3.0);
  auto f = torch::ones({n, n}, f64);
  DarcySolver solver(n);
  auto u = solver.solve(a, f);
  auto interior = solver.interior();
  REQUIRE(interior.sum().item<int64_t>() == (n - 2) * (n - 2));
  REQUIRE((u.index({interior}) > 0).all().item<bool>());
  REQUIRE(u.index({interior.logical_not()}).abs().max().item<double>() == 0.0);
  // The compliance sum(f u) decreases as a grows: a between 3 and 12 puts it between the constant cases.
  const double compliance = u.sum().item<double>();
  REQUIRE(compliance < solver.solve(torch::full({n, n}, 3.0, f64), f).sum().item<double>());
  REQUIRE(compliance > solver.solve(torch::full({n, n}, 12.0, f64), f).sum().item<double>());
}
