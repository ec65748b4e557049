// Stochastic Laplacians (SDGD, Hutchinson) and the high-dimensional benchmark problem: unbiased where claimed,
// Taylor mode equal to backward-of-backward, the closed-form source equal to autograd, and short runs that learn.
#include "core/diff.h"
#include "core/network.h"
#include "core/trainer.h"
#include "pinn/highdim.h"
#include "pinn/sdgd.h"
#include "pinn/solver.h"

#include "tests/pinn/helpers.h"

#include <catch2/catch.hpp>

#include <cmath>

using namespace physis;

namespace {

using physis::test::problem_from;

// Mean and standard error over `draws` Laplacian estimates of a fixed network at points x, per point.
std::pair<torch::Tensor, torch::Tensor> estimate_statistics(MLP& net, const torch::Tensor& x,
                                                            const pinn::StochasticLaplacian& s, int draws) {
  torch::NoGradGuard no_grad;
  std::vector<int64_t> axes(x.size(1));
  for (int64_t i = 0; i < x.size(1); ++i) axes[i] = i;
  std::vector<torch::Tensor> estimates;
  for (int k = 0; k < draws; ++k) {
    auto d = s.draw(x, axes);
    estimates.push_back(net->forward_jet(d.seed).second_sum().squeeze(1) * d.scale);
  }
  auto all = torch::stack(estimates);
  return {all.mean(0), all.std(0) / std::sqrt(static_cast<double>(draws))};
}

}  // namespace

TEST_CASE("SDGD and Hutchinson Laplacian estimates are unbiased", "[sdgd]") {
  torch::manual_seed(1);
  MLP net(MLPOptions({12, 24, 24, 1}));
  net->to(torch::kFloat64);
  auto x = torch::rand({6, 12}, torch::kFloat64) - 0.5;
  auto xg = x.clone().requires_grad_(true);
  auto exact = Derivatives(xg, net->forward(xg)).laplacian(0).detach();

  pinn::StochasticLaplacian s;
  s.estimator = GENERATE(pinn::LaplacianEstimator::sdgd, pinn::LaplacianEstimator::hutchinson);
  s.samples = 3;
  INFO((s.estimator == pinn::LaplacianEstimator::sdgd ? "sdgd" : "hutchinson"));
  auto [mean, standard_error] = estimate_statistics(net, x, s, 4000);
  // Within 4 standard errors at every point, and the estimate is really random (not the exact value every time).
  REQUIRE(((mean - exact).abs() <= 4 * standard_error + 1e-12).all().item<bool>());
  REQUIRE((standard_error > 1e-6).all().item<bool>());

  // Drawing every axis gives the exact Laplacian.
  s.estimator = pinn::LaplacianEstimator::sdgd;
  s.samples = 12;
  auto d = s.draw(x, {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11});
  REQUIRE(d.scale == 1.0);
  REQUIRE((net->forward_jet(d.seed).second_sum().squeeze(1) - exact).abs().max().item<double>() < 1e-10);
}

TEST_CASE("the unbiased squared-residual form has the value r_J r_I and the gradient 2 r_J", "[sdgd]") {
  auto r = torch::tensor({0.5, -2.0, 3.0}, torch::kFloat64).requires_grad_(true);
  auto partner = torch::tensor({1.5, 1.0, -0.5}, torch::kFloat64);
  auto value = pinn::squared_residual(r, partner);
  REQUIRE(torch::allclose(value, r.detach() * partner));
  value.sum().backward();
  REQUIRE(torch::allclose(r.grad(), 2 * partner));
  REQUIRE(torch::allclose(pinn::squared_residual(r, torch::Tensor()), r.detach().square()));
}

TEST_CASE("the closed-form source of the high-dimensional ball problem equals autograd", "[sdgd]") {
  const auto equation = GENERATE(pinn::HighDimEquation::poisson, pinn::HighDimEquation::allen_cahn,
                                 pinn::HighDimEquation::sine_gordon);
  pinn::HighDimBall ball(7, equation, 3);
  torch::manual_seed(2);
  auto x = ball.sample(20, torch::kFloat64);
  REQUIRE((x.square().sum(1) < 1).all().item<bool>());
  auto xg = x.clone().requires_grad_(true);
  auto u = ball.exact(xg);
  auto lap = Derivatives(xg, u.unsqueeze(1)).laplacian(0);
  REQUIRE((ball.exact_laplacian(x) - lap).abs().max().item<double>() < 1e-10);
  REQUIRE((ball.source(x) - (lap + ball.nonlinear(u))).abs().max().item<double>() < 1e-10);
  // Zero on the sphere.
  auto sphere = x / x.norm(2, 1, true);
  REQUIRE(ball.exact(sphere).abs().max().item<double>() < 1e-12);
}

TEST_CASE("the ball problem takes given coefficients c_i", "[sdgd]") {
  const auto c = torch::tensor({0.5, -1.25}, torch::kFloat64);
  pinn::HighDimBall ball(3, pinn::HighDimEquation::poisson, c);
  const auto x = torch::tensor({{0.1, -0.2, 0.3}}, torch::kFloat64);
  double sum = 0;
  for (int i = 0; i < 2; ++i) {
    const double a = x[0][i].item<double>(), b = x[0][i + 1].item<double>();
    sum += c[i].item<double>() * std::sin(a + std::cos(b) + b * std::cos(a));
  }
  REQUIRE(ball.exact(x).item<double>() == Approx((1 - 0.14) * sum).epsilon(1e-14));
  REQUIRE_THROWS_WITH(pinn::HighDimBall(4, pinn::HighDimEquation::poisson, c),
                      Catch::Contains("expected 3 coefficients") && Catch::Contains("got 2"));
  // Through the options, the same instance.
  pinn::HighDimPinn pinn(pinn::HighDimOptions().dim(3).hidden({4}).coefficients(c).test_points(4), torch::kFloat64);
  REQUIRE(torch::allclose(pinn.problem().exact(x), ball.exact(x)));
}

TEST_CASE("Taylor-mode second derivatives of the ansatz equal backward-of-backward in float64", "[sdgd]") {
  pinn::StochasticLaplacian s;
  s.samples = 4;
  pinn::HighDimPinn pinn(pinn::HighDimOptions().dim(30).hidden({16, 16}).laplacian(s).test_points(10), torch::kFloat64);
  torch::manual_seed(5);
  auto x = pinn.problem().sample(9, torch::kFloat64);
  std::vector<int64_t> axes(30);
  for (int64_t i = 0; i < 30; ++i) axes[i] = i;
  auto draw = s.draw(x, axes);
  auto taylor = pinn.laplacian_estimate(x, draw);
  auto picked = draw.seed.axes;
  auto nested = draw.scale * pinn.nested_second_derivatives(
                                 x, std::vector<int64_t>(picked.data_ptr<int64_t>(), picked.data_ptr<int64_t>() + 4));
  REQUIRE((taylor - nested).abs().max().item<double>() < 1e-8);
  // Hutchinson probes (dense directions) against v^T H v from the full Hessian.
  s.estimator = pinn::LaplacianEstimator::hutchinson;
  auto probe_draw = s.draw(x, axes);
  auto probes = probe_draw.seed.first.squeeze(1);  // [V, d]
  auto xg = x.clone().requires_grad_(true);
  auto grad = torch::autograd::grad({pinn.predict(xg).sum()}, {xg}, {}, true, true)[0];
  torch::Tensor expected = torch::zeros({9}, torch::kFloat64);
  for (int64_t k = 0; k < probes.size(0); ++k) {
    auto hv = torch::autograd::grad({(grad * probes[k]).sum()}, {xg}, {}, true, false)[0];
    expected += (hv * probes[k]).sum(1);
  }
  REQUIRE((pinn.laplacian_estimate(x, probe_draw) - expected * probe_draw.scale).abs().max().item<double>() < 1e-8);
}

TEST_CASE("the Taylor-mode loss has the parameter gradients of the backward-of-backward loss", "[sdgd]") {
  pinn::StochasticLaplacian s;
  s.samples = 5;
  auto options = pinn::HighDimOptions().dim(12).hidden({16, 16}).laplacian(s).test_points(10).seed(3);
  pinn::HighDimPinn taylor(options, torch::kFloat64);
  pinn::HighDimPinn nested(pinn::HighDimOptions(options).nested_backward(true), torch::kFloat64);
  torch::manual_seed(8);
  auto x = taylor.problem().sample(7, torch::kFloat64);
  std::vector<int64_t> axes(12);
  for (int64_t i = 0; i < 12; ++i) axes[i] = i;
  auto draw = s.draw(x, axes);
  auto g = taylor.problem().source(x);
  auto gradients = [&](pinn::HighDimPinn& pinn) {
    auto params = pinn.network()->parameters();
    auto loss = (pinn.laplacian_estimate(x, draw) - g).square().mean();
    return torch::autograd::grad({loss}, params);
  };
  auto a = gradients(taylor), b = gradients(nested);
  REQUIRE(a.size() == b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    INFO("parameter " << i);
    REQUIRE(b[i].abs().max().item<double>() > 1e-6);
    REQUIRE((a[i] - b[i]).abs().max().item<double>() < 1e-9 * (1 + b[i].abs().max().item<double>()));
  }
}

TEST_CASE("SDGD trains the 20-dimensional Poisson ball problem in a few hundred steps", "[sdgd][slow]") {
  const auto form = GENERATE(pinn::SquaredResidualForm::biased, pinn::SquaredResidualForm::unbiased);
  pinn::StochasticLaplacian s;
  s.samples = 5;
  s.form = form;
  torch::manual_seed(0);
  pinn::HighDimPinn pinn(pinn::HighDimOptions().dim(20).hidden({32, 32}).laplacian(s).test_points(2000), torch::kFloat32);
  const double before = pinn.evaluate().front().second;
  Trainer trainer(pinn.network().ptr(), [&](int64_t step) { return pinn.loss(step); },
                  TrainerOptions()
                      .phases({PhaseOptions().optimizer("adam").lr(3e-3).steps(600).schedule("linear")})
                      .progress("none"));
  trainer.run();
  const double after = pinn.evaluate().front().second;
  INFO("relative L2 before " << before << ", after " << after);
  REQUIRE(after < 0.1);
  REQUIRE(after < 0.2 * before);
}

TEST_CASE("training.sdgd in a problem file estimates the Laplacian and still solves the problem", "[sdgd][slow]") {
  // -laplace(u) = 2 d on the unit ball in d = 6, u = 0 on the sphere: u = 1 - |x|^2.
  auto p = problem_from(R"yaml(
name: ball6
geometry: {hyperball: {dim: 6}}
pde: {name: poisson, source: "12"}
conditions:
  - {type: dirichlet, value: 0, hard: true}
network: {hidden: [32, 32]}
training:
  phases: [{optimizer: adam, steps: 500, lr: 3.0e-3, schedule: linear}]
  interior_points: 256
  boundary_points: 64
  sdgd: {dims: 2, form: unbiased}
reference:
  exact: {u: "1 - (x0^2 + x1^2 + x2^2 + x3^2 + x4^2 + x5^2)"}
output: {grid: [3, 3, 3, 3, 3, 3], plots: false}
)yaml");
  REQUIRE(p.sampling.stochastic_laplacian);
  REQUIRE(p.sampling.stochastic_laplacian->samples == 2);
  pinn::Solver solver(p, Runtime::create(RuntimeOptions().device("cpu").dtype("float32").seed(0)));
  // Two losses at the same parameters differ (fresh draws) but average to the exact one.
  auto first = solver.loss(1).front().second.item<double>(), second = solver.loss(2).front().second.item<double>();
  REQUIRE(first != second);
  auto options = p.trainer;
  options.progress("none");
  Trainer trainer(solver.network().ptr(), [&](int64_t s) { return solver.loss(s); }, options);
  trainer.set_evaluator([&] { return solver.evaluate(); });
  auto result = trainer.run();
  INFO("l2re_u " << result.metrics[0].second);
  REQUIRE(result.metrics[0].second < 5e-2);
}

TEST_CASE("training.sdgd mistakes name the file and line", "[sdgd]") {
  auto base = std::string(R"yaml(
name: heat
geometry: {interval: {min: 0, max: 1}}
time: [0, 1]
equations: ["u_t - laplace(u)"]
training:
  sdgd: {dims: 1}
)yaml");
  REQUIRE_THROWS_WITH(problem_from(base), Catch::Contains("test.yaml:7") && Catch::Contains("laplace()"));
  auto bad_form = std::string(R"yaml(
name: p
geometry: {hyperball: {dim: 4}}
pde: {name: poisson, source: "1"}
training:
  sdgd: {dims: 2, form: sometimes}
)yaml");
  REQUIRE_THROWS_WITH(problem_from(bad_form), Catch::Contains("test.yaml:6") && Catch::Contains("biased, unbiased"));
  auto wrong_key = std::string(R"yaml(
name: p
geometry: {hyperball: {dim: 4}}
pde: {name: poisson, source: "1"}
training:
  sdgd: {probes: 2}
)yaml");
  REQUIRE_THROWS_WITH(problem_from(wrong_key), Catch::Contains("hutchinson"));
}
