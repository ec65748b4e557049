// Adversarial adaptive sampling: the box flow as a density (normalised, samples in the box, log-density equal to
// the change of variables through its Jacobian), the ascent objective moving mass where the residual is (and a
// control that moves it away), the method end to end through the Solver on box and non-box domains, exact resume,
// and problem-file mistakes.
#include "core/trainer.h"
#include "pinn/aas.h"
#include "pinn/adaptive.h"
#include "pinn/solver.h"

#include "tests/pinn/helpers.h"
#include "tests/scratch.h"

#include <catch2/catch.hpp>

#include <ATen/CPUGeneratorImpl.h>
#include <torch/csrc/autograd/autograd.h>

#include <cmath>
#include <numbers>

using namespace physis;
using physis::test::problem_from;
using physis::test::runtime64;

namespace {

pinn::BoxFlow flow_on(std::vector<double> lower, std::vector<double> upper, int64_t couplings = 3) {
  torch::manual_seed(0);  // the couplings' hidden weights
  pinn::BoxFlow flow(pinn::BoxFlowOptions(std::move(lower), std::move(upper)).couplings(couplings).hidden(16));
  flow->to(torch::kFloat64);
  return flow;
}

// Every parameter moved by a random amount of size `size`, so that couplings, scale and shift all act.
void perturb(pinn::BoxFlow& flow, double size, uint64_t seed) {
  auto generator = at::make_generator<at::CPUGeneratorImpl>(seed);
  torch::NoGradGuard no_grad;
  for (auto& p : flow->parameters()) p.add_(size * torch::randn(p.sizes(), generator, torch::kFloat64));
}

torch::Tensor uniform_in(const std::vector<double>& lower, const std::vector<double>& upper, int64_t n,
                         uint64_t seed) {
  auto generator = at::make_generator<at::CPUGeneratorImpl>(seed);
  const auto d = static_cast<int64_t>(lower.size());
  auto lo = torch::tensor(lower, torch::kFloat64), hi = torch::tensor(upper, torch::kFloat64);
  return lo + (hi - lo) * torch::rand({n, d}, generator, torch::kFloat64);
}

double box_volume(const std::vector<double>& lower, const std::vector<double>& upper) {
  double v = 1;
  for (std::size_t j = 0; j < lower.size(); ++j) v *= upper[j] - lower[j];
  return v;
}

// A small Poisson problem on `geometry` with an exact solution, trained with one adaptive item.
pinn::Problem peak_problem(const std::string& geometry, const std::string& method, const std::string& training = "",
                           int64_t steps = 60) {
  return problem_from("geometry: " + geometry + "\n"
                      "helpers: {exact: \"exp(-10*((x - 0.3)^2 + (y - 0.2)^2))\"}\n"
                      "pde: {name: poisson, source: \"(40 - 400*((x - 0.3)^2 + (y - 0.2)^2))*exact\"}\n"
                      "conditions: [{type: dirichlet, value: exact}]\n"
                      "network: {hidden: [8, 8], activation: tanh}\n"
                      "training:\n"
                      "  phases: [{optimizer: adam, steps: " + std::to_string(steps) + ", lr: 0.01}]\n"
                      "  interior_points: 100\n"
                      "  boundary_points: 32\n" + training +
                      "  adaptive: [" + method + "]\n"
                      "reference: {exact: {u: exact}}\n"
                      "output: {grid: [11, 11]}\n");
}

}  // namespace

TEST_CASE("aas flow density integrates to one, untrained and perturbed", "[aas]") {
  const std::vector<std::vector<double>> lowers{{-1.0}, {-1.0, 0.0}, {0.0, -2.0, 1.0}};
  const std::vector<std::vector<double>> uppers{{3.0}, {2.0, 0.5}, {1.0, 2.0, 1.5}};
  for (std::size_t c = 0; c < lowers.size(); ++c) {
    INFO("dimension " << lowers[c].size());
    auto flow = flow_on(lowers[c], uppers[c]);
    const double volume = box_volume(lowers[c], uppers[c]);
    auto x = uniform_in(lowers[c], uppers[c], 200000, 5 + c);
    // Untrained: exactly the uniform density.
    REQUIRE((flow->log_prob(x) + std::log(volume)).abs().max().item<double>() < 1e-9);
    CHECK(flow->log_volume() == Approx(std::log(volume)));
    // Perturbed: no longer uniform, still normalised (Monte Carlo over the box: volume * mean p).
    perturb(flow, 0.2, 17 + c);
    torch::NoGradGuard no_grad;
    auto p = torch::exp(flow->log_prob(x));
    const double spread = (p * volume).std().item<double>();
    CHECK(spread > 0.1);
    const double integral = volume * p.mean().item<double>();
    CHECK(integral == Approx(1.0).margin(0.03));
  }
}

TEST_CASE("aas flow samples stay in the box and carry the change-of-variables log-density", "[aas]") {
  const std::vector<double> lower{-1.0, 0.5}, upper{2.0, 1.0};
  auto flow = flow_on(lower, upper);
  perturb(flow, 0.2, 3);
  geometry::Sampler sampler(geometry::SamplerOptions().seed(1), torch::kFloat64);
  auto [x, log_p] = flow->sample(5000, sampler);
  REQUIRE(x.sizes() == torch::IntArrayRef({5000, 2}));
  for (int64_t j = 0; j < 2; ++j) {
    CHECK(x.select(1, j).min().item<double>() >= lower[j]);
    CHECK(x.select(1, j).max().item<double>() <= upper[j]);
  }
  // The closed-form inverse gives the density the forward pass reported.
  {
    torch::NoGradGuard no_grad;
    CHECK((flow->log_prob(x) - log_p).abs().max().item<double>() < 1e-8);
  }
  // log p(T(z)) = log l(z) - log |det dT/dz| (l the logistic base density), the Jacobian by reverse mode, row by row.
  auto z = torch::randn({20, 2}, at::make_generator<at::CPUGeneratorImpl>(9), torch::kFloat64).requires_grad_(true);
  auto [xt, log_pt] = flow->transform(z);
  auto log_base = -(torch::softplus(z) + torch::softplus(-z)).sum(1).detach();  // [20]
  for (int64_t i = 0; i < 20; ++i) {
    std::vector<torch::Tensor> rows;
    for (int64_t j = 0; j < 2; ++j)
      rows.push_back(torch::autograd::grad({xt[i][j]}, {z}, {}, /*retain_graph=*/true)[0][i]);
    auto jacobian = torch::stack(rows);  // [2, 2]
    const double log_det = std::log(std::abs(torch::det(jacobian).item<double>()));
    CHECK(log_pt[i].item<double>() == Approx(log_base[i].item<double>() - log_det).margin(1e-8));
    // Not vacuous: the map is far from volume-preserving.
    CHECK(std::abs(log_det - std::log(3.0 * 0.5)) > 1e-3);
  }
}

TEST_CASE("maximising the aas objective moves the flow's mass toward a residual peak", "[aas]") {
  const std::vector<double> lower{-1.0, -1.0}, upper{1.0, 1.0};
  auto x = uniform_in(lower, upper, 2000, 21);
  auto peak = torch::tensor({0.5, 0.5}, torch::kFloat64);
  auto f = torch::exp(-20 * (x - peak).square().sum(1));  // [M], a residual-like bump
  auto m = torch::ones({x.size(0)}, torch::kFloat64);     // uniform proposal
  auto rho = f / (f / m).mean();
  // Mass of the flow within 0.3 of the peak, by sampling (uniform: pi 0.09 / 4 = 0.071).
  auto mass_near_peak = [&](pinn::BoxFlow& flow) {
    torch::NoGradGuard no_grad;
    geometry::Sampler sampler(geometry::SamplerOptions().seed(2), torch::kFloat64);
    auto s = flow->sample(10000, sampler).first;
    return ((s - peak).norm(2, 1) < 0.3).to(torch::kFloat64).mean().item<double>();
  };
  auto train = [&](double sign) {
    auto flow = flow_on(lower, upper, 4);
    torch::optim::Adam adam(flow->parameters(), torch::optim::AdamOptions(0.01));
    const double before = pinn::aas_objective(flow, x, rho, m, 1e-3).item<double>();
    CHECK(before == Approx(1.0).margin(1e-9));  // uniform flow: gain 1, no gradient to penalise
    for (int k = 0; k < 100; ++k) {
      adam.zero_grad();
      auto loss = -sign * pinn::aas_objective(flow, x, rho, m, 1e-3);
      loss.backward();
      adam.step();
    }
    const double after = pinn::aas_objective(flow, x, rho, m, 1e-3).item<double>();
    if (sign > 0) CHECK(after > before + 0.5);
    return mass_near_peak(flow);
  };
  auto untrained = flow_on(lower, upper, 4);
  const double uniform_mass = mass_near_peak(untrained);
  CHECK(uniform_mass == Approx(std::numbers::pi * 0.09 / 4).margin(0.01));
  const double ascended = train(1.0);
  CHECK(ascended > 3 * uniform_mass);
  // Descending the same objective is the negative control: mass leaves the peak.
  const double descended = train(-1.0);
  CHECK(descended < 0.5 * uniform_mass);
}

TEST_CASE("the aas gradient penalty keeps an ascended flow smoother", "[aas]") {
  const std::vector<double> lower{0.0, 0.0}, upper{1.0, 1.0};
  auto x = uniform_in(lower, upper, 3000, 8);
  auto f = torch::exp(-50 * (x - 0.5).square().sum(1));
  auto m = torch::ones({x.size(0)}, torch::kFloat64);
  auto rho = f / f.mean();
  auto probe = uniform_in(lower, upper, 10000, 9);
  // Gain and ||grad q||^2 of the ascended flow, both on fresh points (not those it was trained on).
  auto ascend = [&](double penalty) {
    auto flow = flow_on(lower, upper, 4);
    torch::optim::Adam adam(flow->parameters(), torch::optim::AdamOptions(0.01));
    for (int k = 0; k < 150; ++k) {
      adam.zero_grad();
      (-pinn::aas_objective(flow, x, rho, m, penalty)).backward();
      adam.step();
    }
    auto f_probe = torch::exp(-50 * (probe - 0.5).square().sum(1));
    auto rho_probe = f_probe / f_probe.mean();
    auto ones = torch::ones({probe.size(0)}, torch::kFloat64);
    const double gain = pinn::aas_objective(flow, probe, rho_probe, ones, 0.0).item<double>();
    const double sobolev = (gain - pinn::aas_objective(flow, probe, rho_probe, ones, 1.0).item<double>());
    return std::pair{gain, sobolev};
  };
  const auto [free_gain, free_sobolev] = ascend(0.0);
  const auto [penalised_gain, penalised_sobolev] = ascend(1e-3);
  INFO("free " << free_gain << " " << free_sobolev << ", penalised " << penalised_gain << " " << penalised_sobolev);
  // Unpenalised, the flow piles its mass onto the training points with the largest residuals: spikes that miss
  // the bump on fresh points. Penalised, it follows the bump itself.
  CHECK(penalised_gain > 1.5);
  CHECK(penalised_gain > free_gain);
  CHECK(penalised_sobolev < 0.01 * free_sobolev);
}

TEST_CASE("aas trains a small problem through the solver and redraws points from its flow", "[aas]") {
  auto problem = peak_problem("{rectangle: {min: [0, 0], max: [1, 1]}}",
                              "{method: aas, every: 50, flow_steps: 10, couplings: 2, hidden: 8}", "", 300);
  REQUIRE(problem.adaptive.size() == 1);
  pinn::Solver solver(problem, runtime64(1));
  auto adaptive = pinn::make_adaptive_methods(problem.adaptive, solver);
  auto* aas = dynamic_cast<pinn::AdversarialSampling*>(adaptive.front().get());
  REQUIRE(aas != nullptr);
  const auto initial = solver.interior().clone();
  const double error_before = solver.evaluate().front().second;
  auto options = problem.trainer;
  options.progress("none").eval_every(300);
  Trainer trainer(solver.network().ptr(), [&](int64_t s) { return solver.loss(s); }, options);
  trainer.set_evaluator([&] { return solver.evaluate(); });
  trainer.add_hook(adaptive.front());
  auto result = trainer.run();
  REQUIRE(result.steps == 300);
  CHECK(result.metrics.front().second < 0.5 * error_before);
  REQUIRE(solver.interior().sizes() == initial.sizes());
  CHECK_FALSE(torch::equal(solver.interior(), initial));
  CHECK_FALSE(solver.interior_weights().defined());
  CHECK(solver.problem().domain->inside(solver.interior()).all().item<bool>());
  // The flow moved away from uniform.
  auto probe = torch::rand({500, 2}, torch::kFloat64);
  CHECK(torch::exp(aas->flow()->log_prob(probe)).std().item<double>() > 1e-3);
}

TEST_CASE("aas points lie inside a domain that is not a box", "[aas]") {
  auto problem = peak_problem("{disk: {center: [0.5, 0.5], radius: 0.5}}",
                              "{method: aas, every: 1, flow_steps: 5, couplings: 2, hidden: 8}");
  pinn::Solver solver(problem, runtime64(2));
  pinn::AdversarialSampling aas(solver, pinn::AasOptions().every(1).flow_steps(5).couplings(2).hidden(8));
  aas.before_step(1);
  REQUIRE(solver.interior().size(0) == 100);
  CHECK(solver.problem().domain->inside(solver.interior()).all().item<bool>());
  // Rejection keeps exactly what is asked for, also far more than one round's worth.
  auto many = aas.draw_inside(5000, 11);
  REQUIRE(many.size(0) == 5000);
  CHECK(solver.problem().domain->inside(many).all().item<bool>());
}

TEST_CASE("aas with mix draws that share of the points uniformly and the rest as without it", "[aas]") {
  auto problem = peak_problem("{disk: {center: [0.5, 0.5], radius: 0.5}}", "{method: aas}");
  auto points = [&](double mix) {
    pinn::Solver solver(problem, runtime64(2));
    pinn::AdversarialSampling aas(solver,
                                  pinn::AasOptions().every(1).flow_steps(20).couplings(2).hidden(8).lr(0.01).mix(mix));
    aas.before_step(1);
    return solver.interior().clone();
  };
  const auto plain = points(0.0), mixed = points(0.3);
  REQUIRE(mixed.size(0) == 100);
  CHECK(torch::equal(mixed.narrow(0, 0, 70), plain.narrow(0, 0, 70)));  // the flow's points
  CHECK_FALSE(torch::allclose(mixed.narrow(0, 70, 30), plain.narrow(0, 70, 30)));
  CHECK(problem.domain->inside(mixed).all().item<bool>());
  REQUIRE(points(1.0).size(0) == 100);  // all uniform: the flow's draw is empty
}

TEST_CASE("aas with importance weighs each point by the inverse of the density it was drawn from", "[aas]") {
  auto problem = peak_problem("{disk: {center: [0.5, 0.5], radius: 0.5}}", "{method: aas}");
  pinn::Solver solver(problem, runtime64(2));
  const double mix = 0.3;
  pinn::AdversarialSampling aas(
      solver, pinn::AasOptions().every(1).flow_steps(20).couplings(2).hidden(8).lr(0.01).mix(mix).importance(true));
  aas.before_step(1);
  const auto x = solver.interior();
  const auto w = solver.interior_weights();
  REQUIRE(w.defined());
  REQUIRE(w.sizes() == torch::IntArrayRef{100, 1});
  CHECK(w.mean().item<double>() == Approx(1.0).epsilon(1e-12));
  // The sampling density relative to the uniform one on the disk: (1 - mix) q / E_U[q] + mix, q the flow's density
  // relative to its box, E_U[q] its mean over the disk by Monte Carlo.
  auto q = [&](const torch::Tensor& points) { return torch::exp(aas.flow()->log_prob(points) + aas.flow()->log_volume()); };
  auto probe = uniform_in({0, 0}, {1, 1}, 40000, 5);
  const double mean_q = q(probe.index({problem.domain->inside(probe)})).mean().item<double>();
  const auto density = (1 - mix) * q(x) / mean_q + mix;
  CHECK(density.max().item<double>() > 1.2 * density.min().item<double>());  // the flow is not uniform: a real test
  const auto product = w.squeeze(1) * density;  // constant when w is proportional to 1 / density
  CHECK((product.max() / product.min()).item<double>() < 1.05);
  // An exponent a between 0 and 1: w proportional to density^-a (the same draws, so the same density).
  pinn::Solver tempered(problem, runtime64(2));
  pinn::AdversarialSampling(
      tempered, pinn::AasOptions().every(1).flow_steps(20).couplings(2).hidden(8).lr(0.01).mix(mix).importance(0.5))
      .before_step(1);
  REQUIRE(torch::equal(tempered.interior(), x));
  const auto half = tempered.interior_weights().squeeze(1) * density.sqrt();
  CHECK((half.max() / half.min()).item<double>() < 1.03);
  CHECK(tempered.interior_weights().mean().item<double>() == Approx(1.0).epsilon(1e-12));
  // Off by default, and a plain AAS update leaves the weights at 1.
  pinn::Solver plain(problem, runtime64(2));
  pinn::AdversarialSampling(plain, pinn::AasOptions().every(1).flow_steps(20).couplings(2).hidden(8).lr(0.01).mix(mix))
      .before_step(1);
  CHECK_FALSE(plain.interior_weights().defined());
}

TEST_CASE("resume from a checkpoint continues aas exactly", "[aas]") {
  auto problem = peak_problem("{rectangle: {min: [0, 0], max: [1, 1]}}",
                              "{method: aas, every: 20, flow_steps: 5, couplings: 2, hidden: 8}",
                              "  checkpoint_every: 10\n  dtype: float64\n");
  auto train = [&](const std::filesystem::path& folder, int64_t until, bool resume) {
    auto run = physis::test::train_adaptive(problem, folder, until, resume);
    std::vector<torch::Tensor> state;
    for (const auto& p : run.solver->network()->parameters()) state.push_back(p.detach().clone());
    for (const auto& p : dynamic_cast<pinn::AdversarialSampling&>(*run.methods.front()).flow()->parameters())
      state.push_back(p.detach().clone());
    state.push_back(run.solver->interior().clone());
    return state;
  };
  const auto whole = train(physis::test::scratch("aas_whole"), 60, false);
  // Split after the first update (at step 20), and before any (the flow's optimizer has no state yet).
  for (int64_t split : {30, 10}) {
    INFO("split at " << split);
    const auto folder = physis::test::scratch("aas_split" + std::to_string(split));
    train(folder, split, false);
    const auto resumed = train(folder, 60, true);
    physis::test::require_identical(whole, resumed);
  }
}

TEST_CASE("aas problem-file mistakes name the file and line", "[aas]") {
  const std::string head =
      "geometry: {rectangle: {min: [0, 0], max: [1, 1]}}\npde: {name: poisson, source: 1}\n"
      "conditions: [{type: dirichlet, value: 0}]\ntraining:\n  adaptive:\n";
  REQUIRE_THROWS_WITH(problem_from(head + "    - {method: aas, flow_step: 10}\n"),
                      Catch::Contains("test.yaml:6:") && Catch::Contains("flow_step"));
  REQUIRE_THROWS_WITH(problem_from(head + "    - {method: relobralo}\n    - {method: aas, couplings: 0}\n"),
                      Catch::Contains("test.yaml:7:") && Catch::Contains("couplings"));
  REQUIRE_THROWS_WITH(problem_from(head + "    - {method: aas, uniform: 1.5}\n"),
                      Catch::Contains("test.yaml:6:") && Catch::Contains("uniform"));
  REQUIRE_THROWS_WITH(problem_from(head + "    - {method: aas, penalty: -1}\n"), Catch::Contains("test.yaml:6:"));
  REQUIRE_NOTHROW(problem_from(head + "    - {method: aas, every: 100, flow_steps: 50, couplings: 6, hidden: 24, "
                                      "lr: 0.001, penalty: 0.01, candidates: 4000, uniform: 0.3, mix: 0.5}\n"));
  REQUIRE_THROWS_WITH(problem_from(head + "    - {method: aas, mix: -0.1}\n"),
                      Catch::Contains("test.yaml:6:") && Catch::Contains("mix"));
  REQUIRE_NOTHROW(problem_from(head + "    - {method: aas, importance: true}\n"));
  REQUIRE_NOTHROW(problem_from(head + "    - {method: aas, importance: 0.5}\n"));
  REQUIRE_THROWS_WITH(problem_from(head + "    - {method: aas, importance: 2}\n"),
                      Catch::Contains("test.yaml:6:") && Catch::Contains("importance"));
  REQUIRE_THROWS_WITH(problem_from(head + "    - {method: aas, importance: yes please}\n"),
                      Catch::Contains("test.yaml:6:") && Catch::Contains("importance"));
}
