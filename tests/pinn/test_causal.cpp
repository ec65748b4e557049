// Causal training: the chunk weights against the formula, the chunks of known times, the per-point weights on
// residuals known in closed form (their weighted mean is the paper's loss), the annealing of epsilon, problem-file
// mistakes, and a small heat problem trained and resumed exactly.
#include "core/trainer.h"
#include "pinn/adaptive.h"
#include "pinn/causal.h"
#include "pinn/solver.h"

#include "tests/pinn/helpers.h"
#include "tests/scratch.h"

#include <catch2/catch.hpp>

#include <cmath>

using namespace physis;
using physis::test::impose;
using physis::test::problem_from;
using physis::test::runtime64;

namespace {

// u_t - u_xx = source on x in [0, 1], t in [0, 2]; with the network imposed to 0 the residual is -source.
pinn::Problem heat_problem(const std::string& source, const std::string& adaptive, int64_t points = 400) {
  return problem_from("geometry: {interval: {min: 0, max: 1}}\n"
                      "time: [0, 2]\n"
                      "equations: [\"u_t - u_xx - (" + source + ")\"]\n"
                      "conditions: [{type: dirichlet, value: 0}, {type: initial, value: 0}]\n"
                      "network: {hidden: [8, 8]}\n"
                      "training:\n"
                      "  phases: [{optimizer: adam, steps: 40, lr: 0.01}]\n"
                      "  interior_points: " + std::to_string(points) + "\n"
                      "  boundary_points: 16\n  initial_points: 16\n  checkpoint_every: 20\n  dtype: float64\n"
                      "  adaptive: [" + adaptive + "]\n");
}

torch::Tensor zero_field(const torch::Tensor& x) { return torch::zeros({x.size(0), 1}, x.options()); }

}  // namespace

TEST_CASE("causal chunk weights are exp(-epsilon times the losses before each chunk)", "[adaptive][causal]") {
  const double nan = std::nan("");
  auto losses = torch::tensor({1.0, 2.0, nan, 3.0, 0.5}, torch::kFloat64);
  auto w = pinn::causal_chunk_weights(losses, 0.5);
  const std::vector<double> before{0, 1, 3, 3, 6};  // the empty chunk adds nothing
  for (int64_t k = 0; k < 5; ++k) CHECK(w[k].item<double>() == Approx(std::exp(-0.5 * before[k])));
  CHECK((pinn::causal_chunk_weights(losses, 0.0) == 1).all().item<bool>());

  auto t = torch::tensor({0.0, 0.499, 0.5, 1.99, 2.0, -0.1, 2.5}, torch::kFloat64);
  auto chunks = pinn::causal_chunks(t, 0.0, 2.0, 4);
  const std::vector<int64_t> expected{0, 0, 1, 3, 3, 0, 3};
  for (int64_t i = 0; i < 7; ++i) CHECK(chunks[i].item<int64_t>() == expected[i]);
}

TEST_CASE("causal weights make the weighted PDE loss the paper's (1 / M) sum_k w_k L_k", "[adaptive][causal]") {
  auto problem = heat_problem("t", "{method: causal, chunks: 8, epsilon: 0.05}");
  pinn::Solver solver(problem, runtime64());
  impose(solver, zero_field);  // r = -t
  pinn::CausalWeights method(solver, pinn::CausalOptions().chunks(8).epsilon({0.05}));
  method.before_step(0);
  const auto& x = solver.interior();
  auto t = x.select(1, 1);
  auto chunk = pinn::causal_chunks(t, 0.0, 2.0, 8);
  auto r2 = t.square();
  // By hand: the chunks' mean squared residuals, their weights, the paper's loss.
  std::vector<double> losses(8);
  for (int64_t k = 0; k < 8; ++k) {
    auto in = chunk == k;
    REQUIRE(in.any().item<bool>());
    losses[k] = r2.index({in}).mean().item<double>();
  }
  double before = 0, paper = 0;
  for (int64_t k = 0; k < 8; ++k) {
    const double w = std::exp(-0.05 * before);
    CHECK(method.chunk_weights()[k].item<double>() == Approx(w).epsilon(1e-12));
    paper += w * losses[k] / 8;
    before += losses[k];
  }
  auto weights = solver.interior_weights().reshape({-1});
  CHECK((weights * r2).mean().item<double>() == Approx(paper).epsilon(1e-12));
  // The solver's PDE term is that loss.
  CHECK(solver.loss(0).front().second.item<double>() == Approx(paper).epsilon(1e-12));
  // Later chunks weigh less: the residual grows with t, and every chunk before adds to the exponent.
  auto w = method.chunk_weights();
  CHECK((w.slice(0, 1) < w.slice(0, 0, -1)).all().item<bool>());
  CHECK(w[0].item<double>() == 1.0);
}

TEST_CASE("causal training moves to the next epsilon once every weight is above the threshold", "[adaptive][causal]") {
  auto problem = heat_problem("0.01", "{method: causal}");
  pinn::Solver solver(problem, runtime64());
  impose(solver, zero_field);  // r^2 = 1e-4 everywhere: sum over 32 chunks 3.2e-3
  pinn::CausalWeights method(solver, pinn::CausalOptions().epsilon({0.01, 1, 100, 1000}).threshold(0.9));
  CHECK(std::isnan(method.metrics()[1].second));  // no weights yet
  method.before_step(0);
  // exp(-1 * 3.1e-3) > 0.9 moves on from 1; exp(-100 * 3.1e-3) = 0.73 stops at 100.
  CHECK(method.epsilon() == 100);
  CHECK(method.chunk_weights().min().item<double>() == Approx(std::exp(-100 * 31 * 1e-4)).epsilon(1e-9));
  method.before_step(1);
  CHECK(method.epsilon() == 100);
  // What the run reports at each evaluation.
  const auto metrics = method.metrics();
  REQUIRE(metrics.size() == 2);
  CHECK(metrics[0] == std::pair<std::string, double>{"causal_epsilon", 100});
  CHECK(metrics[1].first == "causal_min_weight");
  CHECK(metrics[1].second == Approx(std::exp(-100 * 31 * 1e-4)).epsilon(1e-9));
}

TEST_CASE("causal training mistakes name the file and line", "[adaptive][causal]") {
  const std::string steady =
      "geometry: {rectangle: {min: [0, 0], max: [1, 1]}}\npde: {name: poisson, source: 1}\n"
      "conditions: [{type: dirichlet, value: 0}]\ntraining:\n  adaptive:\n";
  REQUIRE_THROWS_WITH(problem_from(steady + "    - {method: causal}\n"),
                      Catch::Contains("test.yaml:6:") && Catch::Contains("transient"));
  const std::string heat = "geometry: {interval: {min: 0, max: 1}}\ntime: [0, 1]\npde: {name: heat, alpha: 1}\n"
                           "conditions: [{type: dirichlet, value: 0}, {type: initial, value: 0}]\n"
                           "training:\n  adaptive:\n";
  REQUIRE_NOTHROW(problem_from(heat + "    - {method: causal, chunks: 16, epsilon: [0.1, 1], threshold: 0.95}\n"));
  REQUIRE_THROWS_WITH(problem_from(heat + "    - {method: causal, chunks: 0}\n"), Catch::Contains("test.yaml:7:"));
  REQUIRE_THROWS_WITH(problem_from(heat + "    - {method: causal, epsilon: []}\n"),
                      Catch::Contains("test.yaml:7:") && Catch::Contains("epsilon"));
  REQUIRE_THROWS_WITH(problem_from(heat + "    - {method: causal, epsilon: [1, -2]}\n"),
                      Catch::Contains("test.yaml:7:") && Catch::Contains("epsilon"));
  REQUIRE_THROWS_WITH(problem_from(heat + "    - {method: causal, treshold: 0.9}\n"),
                      Catch::Contains("test.yaml:7:") && Catch::Contains("treshold"));
  REQUIRE_THROWS_WITH(problem_from(heat + "    - {method: causal}\n  resample_every: 10\n"),
                      Catch::Contains("test.yaml:7:") && Catch::Contains("resample_every"));
}

TEST_CASE("causal training trains a small heat problem and resumes exactly", "[adaptive][causal]") {
  auto problem = heat_problem("0", "{method: causal, chunks: 8, epsilon: [1, 10], every: 3}", 100);
  const auto whole = physis::test::train_adaptive(problem, physis::test::scratch("causal-whole"), 40, false);
  const auto folder = physis::test::scratch("causal-split");
  physis::test::train_adaptive(problem, folder, 20, false);
  const auto resumed = physis::test::train_adaptive(problem, folder, 40, true);
  physis::test::require_identical(physis::test::training_state(*whole.solver),
                                  physis::test::training_state(*resumed.solver));
  // The weights are set, constant within a chunk and not increasing in time.
  const auto& method = dynamic_cast<const pinn::CausalWeights&>(*whole.methods.front());
  auto w = method.chunk_weights();
  REQUIRE(w.size(0) == 8);
  CHECK((w.slice(0, 1) <= w.slice(0, 0, -1)).all().item<bool>());
}
