// Adaptive training methods: the Gaussian-mixture fit and the curriculum formula against hand computations, each
// sampling and balancing rule on residuals known in closed form, every method end to end from a problem file,
// problem-file mistakes, and exact resume of each method's state.
#include "core/trainer.h"
#include "pinn/adaptive.h"
#include "pinn/gmm_curriculum.h"
#include "pinn/loss_balancing.h"
#include "pinn/residual_sampling.h"
#include "pinn/solver.h"

#include "tests/pinn/helpers.h"
#include "tests/scratch.h"

#include <catch2/catch.hpp>

#include <ATen/CPUGeneratorImpl.h>

#include <cmath>

using namespace physis;
using physis::test::problem_from;
using physis::test::impose;
using physis::test::runtime64;

namespace {

torch::Tensor zero_field(const torch::Tensor& x) { return torch::zeros({x.size(0), 1}, x.options()); }

// -laplace(u) = source on the unit square, u = 0 on the boundary; the network is imposed to 0 where a test needs
// residuals it knows (r = -source).
pinn::Problem square_problem(const std::string& source, const std::string& extra = "", int64_t points = 200) {
  return problem_from("geometry: {rectangle: {min: [0, 0], max: [1, 1]}}\n"
                      "pde: {name: poisson, source: \"" + source + "\"}\n"
                      "conditions: [{type: dirichlet, value: 0, name: wall}]\n"
                      "network: {hidden: [16, 16]}\n"
                      "training: {phases: [{steps: 100}], interior_points: " + std::to_string(points) +
                      ", boundary_points: 64" + extra + "}\n");
}

// The Poisson problem of poisson2d_sin.yaml, small: two tanh layers of `width`, the given phases and interior
// points, one adaptive method, and extra training keys and top-level sections.
pinn::Problem sine_poisson(const std::string& method, int width, const std::string& phases, int64_t points,
                           const std::string& sections, const std::string& training = "") {
  const auto w = std::to_string(width);
  return problem_from("geometry: {rectangle: {min: [0, 0], max: [1, 1]}}\n"
                      "pde: {name: poisson, source: \"2*pi^2*sin(pi*x)*sin(pi*y)\"}\n"
                      "conditions: [{type: dirichlet, value: 0}]\n"
                      "network: {hidden: [" + w + ", " + w + "], activation: tanh}\n"
                      "training:\n"
                      "  phases: " + phases + "\n"
                      "  interior_points: " + std::to_string(points) + "\n"
                      "  boundary_points: 32\n" + training +
                      "  adaptive: [" + method + "]\n" + sections);
}

}  // namespace

TEST_CASE("EM recovers a known one-dimensional Gaussian mixture", "[adaptive]") {
  const std::vector<double> means{-2.0, 1.0, 5.0}, sds{0.5, 0.3, 1.0}, weights{0.3, 0.5, 0.2};
  const int64_t n = 20000;
  auto generator = at::make_generator<at::CPUGeneratorImpl>(11);
  auto pick = torch::multinomial(torch::tensor(weights, torch::kFloat64), n, true, generator);  // [N]
  auto noise = torch::randn({n}, generator, torch::kFloat64);
  auto values = torch::tensor(means, torch::kFloat64).index({pick}) +
                torch::tensor(sds, torch::kFloat64).index({pick}) * noise;  // [N]

  auto fit = pinn::fit_gmm_1d(values, 3, 200, 0);
  REQUIRE(fit.ok);
  REQUIRE(fit.responsibilities.sizes() == torch::IntArrayRef({n, 3}));
  REQUIRE((fit.responsibilities.sum(1) - 1).abs().max().item<double>() < 1e-9);
  for (int64_t k = 0; k < 3; ++k) {
    INFO("component " << k);
    CHECK(fit.means[k].item<double>() == Approx(means[k]).margin(0.05));
    CHECK(fit.variances[k].item<double>() == Approx(sds[k] * sds[k]).epsilon(0.1));
    CHECK(fit.weights[k].item<double>() == Approx(weights[k]).margin(0.02));
  }
  // Scale does not matter: residuals of 1e-6 fit as well as residuals of 1.
  auto tiny = pinn::fit_gmm_1d(values * 1e-6, 3, 200, 0);
  REQUIRE(tiny.ok);
  CHECK(tiny.means[2].item<double>() == Approx(5e-6).margin(5e-8));
  // No usable fit: constant values, non-finite values, fewer values than components.
  CHECK_FALSE(pinn::fit_gmm_1d(torch::ones({100}), 2).ok);
  CHECK_FALSE(pinn::fit_gmm_1d(torch::tensor({1.0, std::nan(""), 2.0, 3.0}), 2).ok);
  CHECK_FALSE(pinn::fit_gmm_1d(torch::tensor({1.0}), 2).ok);
  // More components than distinct values still gives a finite fit.
  auto two_values = torch::cat({torch::zeros({50}), torch::ones({50})});
  auto coarse = pinn::fit_gmm_1d(two_values, 4);
  REQUIRE(coarse.ok);
  CHECK(torch::isfinite(coarse.responsibilities).all().item<bool>());
}

TEST_CASE("GMM curriculum weights follow the formula and move from easy to hard points", "[adaptive]") {
  auto generator = at::make_generator<at::CPUGeneratorImpl>(3);
  auto easy = 0.01 * torch::randn({600}, generator, torch::kFloat64);
  auto hard = 3.0 + 0.5 * torch::randn({400}, generator, torch::kFloat64);
  auto r = torch::cat({easy, hard});
  auto fit = pinn::fit_gmm_1d(r, 2, 100, 0);
  REQUIRE(fit.ok);
  const double beta = 1.0;
  for (double tau : {0.0, 0.3, 1.0}) {
    INFO("tau " << tau);
    auto w = pinn::gmm_curriculum_weights(fit, r, tau, beta);
    // The formula, component by component.
    const auto g = fit.responsibilities;
    std::vector<double> d(2), precision(2), big(2);
    for (int64_t k = 0; k < 2; ++k) {
      d[k] = (g.select(1, k) * r.square()).sum().item<double>() / (g.select(1, k).sum().item<double>() + 1e-12);
      precision[k] = 1.0 / fit.variances[k].item<double>();
    }
    const double dmin = std::min(d[0], d[1]), dmax = std::max(d[0], d[1]);
    const double pmax = std::max(precision[0], precision[1]);
    for (int64_t k = 0; k < 2; ++k) {
      const double dn = (d[k] - dmin) / (dmax - dmin + 1e-12);
      const double c = (1 - tau) * std::exp(-beta * dn) + tau * std::exp(-beta * (1 - dn));
      big[k] = c * ((1 - tau) * precision[k] / pmax + tau);
    }
    auto expected = g.select(1, 0) * big[0] + g.select(1, 1) * big[1];
    expected = expected / expected.mean();
    REQUIRE((w - expected).abs().max().item<double>() < 1e-10);
    REQUIRE(w.mean().item<double>() == Approx(1.0));
    const double easy_weight = w.narrow(0, 0, 600).mean().item<double>();
    const double hard_weight = w.narrow(0, 600, 400).mean().item<double>();
    if (tau == 0.0) CHECK(easy_weight > 10 * hard_weight);
    if (tau == 1.0) CHECK(hard_weight > 2 * easy_weight);
  }
}

TEST_CASE("the GMM method weighs the solver's points and keeps its weights when a fit fails", "[adaptive]") {
  auto problem = square_problem("1 + 20*(x > 0.7)");
  pinn::Solver solver(problem, runtime64());
  impose(solver, zero_field);
  pinn::GmmCurriculum gmm(solver, pinn::GmmCurriculumOptions().every(10).components(2));
  gmm.set_total_steps(100);
  gmm.before_step(5);
  REQUIRE_FALSE(solver.interior_weights().defined());  // not yet due
  gmm.before_step(10);
  auto w = solver.interior_weights().reshape({-1});
  REQUIRE(w.mean().item<double>() == Approx(1.0));
  auto right = solver.interior().select(1, 0) > 0.7;
  CHECK(w.index({~right}).mean().item<double>() > w.index({right}).mean().item<double>());  // early: easy first
  CHECK(gmm.progress(40) == Approx(0.5));
  CHECK(gmm.progress(100) == 1.0);
  // The shuffle control deals the same weights to the points in another order.
  pinn::Solver shuffled_solver(problem, runtime64());
  impose(shuffled_solver, zero_field);
  pinn::GmmCurriculum shuffled(shuffled_solver,
                               pinn::GmmCurriculumOptions().every(10).components(2).shuffle(true));
  shuffled.set_total_steps(100);
  shuffled.before_step(10);
  auto ws = shuffled_solver.interior_weights().reshape({-1});
  CHECK(torch::allclose(std::get<0>(ws.sort()), std::get<0>(w.sort())));
  CHECK_FALSE(torch::allclose(ws, w));
  const auto easy_share = [&](const torch::Tensor& weights) {
    return weights.index({~right}).sum().item<double>() / weights.sum().item<double>();
  };
  CHECK(std::abs(easy_share(ws) - (~right).to(torch::kDouble).mean().item<double>()) <
        std::abs(easy_share(w) - (~right).to(torch::kDouble).mean().item<double>()));
  // Residuals all equal: no mixture to fit, the weights stay as they were.
  auto uniform = square_problem("1");
  pinn::Solver flat(uniform, runtime64());
  impose(flat, zero_field);
  pinn::GmmCurriculum none(flat, pinn::GmmCurriculumOptions().every(1));
  none.before_step(1);
  CHECK_FALSE(flat.interior_weights().defined());
}

TEST_CASE("RAR adds exactly `add` points at the largest residuals", "[adaptive]") {
  auto problem = square_problem("x", ", interior_weight: \"2\"");
  pinn::Solver solver(problem, runtime64());
  impose(solver, zero_field);  // |r| = x
  const int64_t n = solver.interior().size(0);
  pinn::ResidualRefinement rar(solver, pinn::ResidualRefinementOptions().every(50).candidates(1000).add(7));
  rar.before_step(0);
  REQUIRE(solver.interior().size(0) == n);
  rar.before_step(50);
  REQUIRE(solver.interior().size(0) == n + 7);
  auto added = solver.interior().narrow(0, n, 7);
  // The 7 largest of 1000 uniform x lie above 0.98 (expected 0.993 for the 7th).
  CHECK(added.select(1, 0).min().item<double>() > 0.98);
  auto weights = solver.interior_weights().reshape({-1});
  CHECK((weights.narrow(0, 0, n) == 2).all().item<bool>());
  CHECK((weights.narrow(0, n, 7) == 1).all().item<bool>());
  rar.before_step(60);
  CHECK(solver.interior().size(0) == n + 7);
  rar.before_step(120);  // an L-BFGS call may jump past a multiple of `every`
  CHECK(solver.interior().size(0) == n + 14);
}

TEST_CASE("RAD draws with p proportional to |r|^k over its mean plus c", "[adaptive]") {
  auto p = pinn::residual_distribution(torch::tensor({0.0, 1.0, 3.0}), 1.0, 1.0);
  REQUIRE((p - torch::tensor({1.0, 1.75, 3.25}, torch::kFloat64) / 6.0).abs().max().item<double>() < 1e-12);
  auto p2 = pinn::residual_distribution(torch::tensor({1.0, 2.0}), 2.0, 0.0);
  REQUIRE((p2 - torch::tensor({0.2, 0.8}, torch::kFloat64)).abs().max().item<double>() < 1e-12);
  REQUIRE(pinn::residual_distribution(torch::zeros({4}), 1.0, 0.0).sum().item<double>() == Approx(1.0));

  // |r| = x on the unit square: with c = 0 the points' density is 2x (mean x 2/3), with c = 1 it is x + 1/2
  // (mean 7/12); uniform points would have mean 1/2.
  for (auto [c, mean] : {std::pair{0.0, 2.0 / 3.0}, std::pair{1.0, 7.0 / 12.0}}) {
    INFO("c " << c);
    auto problem = square_problem("x", "", 500);
    pinn::Solver solver(problem, runtime64());
    impose(solver, zero_field);
    pinn::ResidualDistribution rad(solver, pinn::ResidualDistributionOptions().every(1).candidates(20000).c(c));
    rad.before_step(1);
    REQUIRE(solver.interior().size(0) == 500);
    REQUIRE(std::get<0>(at::_unique(solver.interior().select(1, 0))).size(0) == 500);  // without replacement
    CHECK(solver.interior().select(1, 0).mean().item<double>() == Approx(mean).margin(0.035));
  }
}

TEST_CASE("the periodic redraw keeps the interior points an adaptive method placed", "[adaptive]") {
  auto problem = square_problem("x", ", resample_every: 10", 300);
  pinn::Solver solver(problem, runtime64());
  impose(solver, [](const torch::Tensor& x) { return x.narrow(1, 0, 1); });  // u = x: the wall term is nonzero
  auto wall_loss = [&](int64_t step) { return physis::test::term(solver.loss(step), "wall"); };
  auto before = solver.interior().clone();
  const double wall = wall_loss(10);  // nothing placed yet: every point is redrawn
  REQUIRE_FALSE(torch::equal(solver.interior(), before));

  pinn::ResidualDistribution rad(solver, pinn::ResidualDistributionOptions().every(5).candidates(3000));
  rad.before_step(15);
  auto placed = solver.interior().clone();
  REQUIRE_FALSE(torch::equal(placed, before));
  const double wall_placed = wall_loss(20);
  CHECK(torch::equal(solver.interior(), placed));  // RAD's points stay until RAD redraws them
  CHECK(wall_placed != wall);                       // the boundary points are redrawn all the same
  CHECK(wall_loss(30) != wall_placed);
  CHECK(torch::equal(solver.interior(), placed));
}

TEST_CASE("a periodic redraw depends on its step only, so that a resumed run draws the same points", "[adaptive]") {
  auto problem = square_problem("x", ", resample_every: 10", 100);
  pinn::Solver straight(problem, runtime64()), resumed(problem, runtime64());
  straight.loss(10);
  auto first = straight.interior().clone();
  straight.loss(20);
  resumed.loss(20);  // as a run resumed from a checkpoint at step 15 would
  CHECK_FALSE(torch::equal(straight.interior(), first));
  CHECK(torch::equal(resumed.interior(), straight.interior()));
}

TEST_CASE("lr_annealing raises the scale of a boundary term whose gradients are small", "[adaptive]") {
  auto scale_after_one_update = [](const std::string& weight) {
    auto problem = problem_from("geometry: {rectangle: {min: [0, 0], max: [1, 1]}}\n"
                                "pde: {name: poisson, source: \"2*pi^2*sin(pi*x)*sin(pi*y)\"}\n"
                                "conditions: [{type: dirichlet, value: \"1 + x\", name: wall, weight: " + weight +
                                "}]\n"
                                "network: {hidden: [16, 16]}\n"
                                "training: {interior_points: 200, boundary_points: 64}\n");
    pinn::Solver solver(problem, runtime64());
    pinn::LrAnnealing method(solver, pinn::LrAnnealingOptions().every(1).alpha(0.0));
    const double before = solver.loss(0)[1].second.item<double>();
    method.before_step(1);
    const double scale = method.scales().at("wall");
    CHECK(solver.loss(0)[1].second.item<double>() == Approx(scale * before));
    return scale;
  };
  const double plain = scale_after_one_update("1");
  const double small = scale_after_one_update("0.001");
  CHECK(small > 1.0);
  CHECK(small == Approx(1000 * plain).epsilon(1e-9));  // the estimate undoes the term's weight
}

TEST_CASE("self_adaptive weights grow where residuals are large", "[adaptive]") {
  for (std::string mask : {"square", "softplus"}) {
    INFO(mask);
    auto problem = square_problem("x > 0.5");
    pinn::Solver solver(problem, runtime64());
    impose(solver, zero_field);  // r = 0 on the left half, -1 on the right
    pinn::SelfAdaptiveWeights method(solver, pinn::SelfAdaptiveOptions().lr(0.01).mask(mask));
    for (int64_t step = 0; step < 20; ++step) method.before_step(step);
    auto right = solver.interior().select(1, 0) > 0.5;
    auto lambda = method.lambda();
    CHECK((lambda.index({~right}) == 1.0).all().item<bool>());
    CHECK(lambda.index({right}).min().item<double>() == Approx(1.2).margin(0.01));  // Adam: about lr per step
    auto expected = mask == "square" ? lambda.square() : torch::softplus(lambda);
    CHECK((solver.interior_weights().reshape({-1}) - expected).abs().max().item<double>() < 1e-12);
  }
}

TEST_CASE("relobralo scales sum to the number of terms and favour the slowest term", "[adaptive]") {
  auto problem = problem_from("geometry: {rectangle: {min: [0, 0], max: [1, 1]}}\n"
                              "pde: {name: poisson, source: 1}\n"
                              "conditions:\n"
                              "  - {type: dirichlet, on: x_min, value: 0, name: left}\n"
                              "  - {type: dirichlet, on: x_max, value: 0, name: right}\n"
                              "network: {hidden: [8]}\n"
                              "training: {interior_points: 50, boundary_points: 16}\n");
  pinn::Solver solver(problem, runtime64());
  pinn::Relobralo method(solver, pinn::RelobraloOptions().alpha(0.9).rho(0.5));
  // pde falls fast, left slowly, right not at all; the method sees its own scales applied.
  for (int64_t step = 0; step < 50; ++step) {
    const double t = static_cast<double>(step);
    std::vector<double> raw{std::exp(-0.2 * t), std::exp(-0.02 * t), 1.0};
    auto scales = method.scales().defined() ? method.scales() : torch::ones({3}, torch::kFloat64);
    LossTerms terms;
    const std::vector<std::string> names{"pde", "left", "right"};
    for (int64_t i = 0; i < 3; ++i) terms.emplace_back(names[i], torch::tensor(raw[i] * scales[i].item<double>()));
    method.after_step(step, terms);
    REQUIRE(method.scales().sum().item<double>() == Approx(3.0));
  }
  auto s = method.scales();
  CHECK(s[2].item<double>() > s[1].item<double>());
  CHECK(s[1].item<double>() > s[0].item<double>());
  CHECK(solver.loss(0)[2].second.item<double>() > 0);
}

TEST_CASE("each adaptive method trains a small Poisson problem from its problem file", "[adaptive]") {
  const std::vector<std::string> methods{
      "{method: gmm, every: 50}",
      "{method: rar, every: 100, candidates: 2000, add: 20}",
      "{method: rad, every: 100, candidates: 2000}",
      "{method: lr_annealing, every: 10}",
      "{method: self_adaptive, lr: 0.005}",
      "{method: relobralo}",
  };
  for (const auto& item : methods) {
    INFO(item);
    auto problem = sine_poisson(item, 16, "[{optimizer: adam, steps: 300, lr: 0.005}]", 256,
                                "reference: {exact: {u: \"sin(pi*x)*sin(pi*y)\"}}\noutput: {grid: [21, 21]}\n");
    REQUIRE(problem.adaptive.size() == 1);
    pinn::Solver solver(problem, runtime64(1));
    auto adaptive = pinn::make_adaptive_methods(problem.adaptive, solver);
    const double error_before = solver.evaluate().front().second;
    // The PDE loss on fixed points, unweighted, so that methods that move points or weights compare alike.
    const auto probe = solver.sample_interior(500);
    const double residual_before = solver.residuals(probe).square().mean().item<double>();
    auto options = problem.trainer;
    options.progress("none").eval_every(300);
    Trainer trainer(solver.network().ptr(), [&](int64_t s) { return solver.loss(s); }, options);
    trainer.set_evaluator([&] { return solver.evaluate(); });
    for (const auto& m : adaptive) trainer.add_hook(m);
    auto result = trainer.run();
    REQUIRE(result.steps == 300);
    CHECK(result.metrics.front().second < 0.5 * error_before);
    CHECK(solver.residuals(probe).square().mean().item<double>() < 0.1 * residual_before);
  }
}

TEST_CASE("adaptive method mistakes name the file and line", "[adaptive]") {
  const std::string head =
      "geometry: {rectangle: {min: [0, 0], max: [1, 1]}}\npde: {name: poisson, source: 1}\n"
      "conditions: [{type: dirichlet, value: 0}]\ntraining:\n  adaptive:\n";
  REQUIRE_THROWS_WITH(problem_from(head + "    - {method: gmn}\n"),
                      Catch::Contains("test.yaml:6:") && Catch::Contains("unknown adaptive method 'gmn'") &&
                          Catch::Contains("relobralo"));
  REQUIRE_THROWS_WITH(problem_from(head + "    - {method: relobralo}\n    - {method: gmm, evry: 10}\n"),
                      Catch::Contains("test.yaml:7:") && Catch::Contains("evry"));
  REQUIRE_THROWS_WITH(problem_from(head + "    - {method: rar, add: 0}\n"), Catch::Contains("test.yaml:6:"));
  REQUIRE_THROWS_WITH(problem_from(head + "    - {method: self_adaptive, mask: cube}\n"),
                      Catch::Contains("test.yaml:6:") && Catch::Contains("cube"));
  REQUIRE_THROWS_WITH(problem_from(head + "    - {method: gmm, shuffle: sometimes}\n"), Catch::Contains("test.yaml:6:"));
  // Per-point weights need a fixed point set.
  const std::string redraw = "  resample_every: 50\n";
  for (const std::string method : {"gmm", "self_adaptive"}) {
    REQUIRE_THROWS_WITH(problem_from(head + "    - {method: rad}\n    - {method: " + method + "}\n" + redraw),
                        Catch::Contains("test.yaml:7:") && Catch::Contains("resample_every") &&
                            Catch::Contains(method));
  }
  REQUIRE_NOTHROW(problem_from(head + "    - {method: rad}\n    - {method: relobralo}\n" + redraw));
  REQUIRE_NOTHROW(problem_from(
      head + "    - {method: gmm, every: 10, components: 3, beta: 2, schedule_fraction: 0.5, shuffle: true}\n"));
}

TEST_CASE("resume from a checkpoint continues each adaptive method exactly", "[adaptive]") {
  const std::vector<std::string> methods{
      "{method: gmm, every: 20, components: 3}",
      "{method: rar, every: 20, candidates: 500, add: 5}",
      "{method: rad, every: 20, candidates: 500}",
      "{method: lr_annealing, every: 5}",
      "{method: self_adaptive}",
      "{method: relobralo, rho: 0.5}",
  };
  int index = 0;
  for (const auto& item : methods) {
    INFO(item);
    auto problem = sine_poisson(item, 8, "[{optimizer: adam, steps: 60, lr: 0.01}]", 100,
                                "", "  checkpoint_every: 30\n  dtype: float64\n");
    // Trains to `until` in `folder`, from its checkpoint when `resume`; returns parameters and interior state.
    auto train = [&](const std::filesystem::path& folder, int64_t until, bool resume) {
      return physis::test::training_state(*physis::test::train_adaptive(problem, folder, until, resume).solver);
    };
    const auto whole = train(physis::test::scratch("whole" + std::to_string(index)), 60, false);
    const auto folder = physis::test::scratch("split" + std::to_string(index++));
    train(folder, 30, false);
    const auto resumed = train(folder, 60, true);
    physis::test::require_identical(whole, resumed);
  }
}
