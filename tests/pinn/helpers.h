// Small helpers shared by the pinn tests.
#pragma once

#include "core/config.h"
#include "core/runtime.h"
#include "core/trainer.h"
#include "pinn/adaptive.h"
#include "pinn/problem.h"
#include "pinn/residual.h"
#include "pinn/solver.h"

#include <catch2/catch.hpp>

#include <filesystem>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace physis::test {

// A problem from YAML text; error locations read "test.yaml:LINE:COL".
inline pinn::Problem problem_from(const std::string& yaml) {
  return pinn::Problem::from_section(config::Section::load_string(yaml, "test.yaml"));
}

// The message of the ConfigError that loading `yaml` throws, or "no error".
inline std::string problem_error(const std::string& yaml) {
  try {
    problem_from(yaml);
  } catch (const config::ConfigError& e) {
    return e.what();
  }
  return "no error";
}

// The value of loss term `name` (a test failure if there is none).
inline double term(const LossTerms& terms, const std::string& name) {
  for (const auto& [n, v] : terms)
    if (n == name) return v.item<double>();
  FAIL("no loss term " << name);
  return 0;
}

// Replaces the network's output by a known function of the inputs (for forward and forward-mode passes), so that
// a test knows the residuals.
inline void impose(pinn::Solver& solver, std::function<torch::Tensor(const torch::Tensor&)> f) {
  solver.network()->set_output_transform(
      [f](const torch::Tensor& x, const torch::Tensor& raw) { return f(x) + 0 * raw; },
      [f](const Jet& x, const Jet& /*raw*/) { return pinn::function_jet(f, x); });
}

inline Runtime runtime64(uint64_t seed = 0) {
  return Runtime::create(RuntimeOptions().device("cpu").dtype("float64").seed(seed));
}

// A solver trained with its problem's adaptive methods, for inspecting both afterwards.
struct AdaptiveRun {
  std::unique_ptr<pinn::Solver> solver;  // on the heap: the methods hold a reference to it
  std::vector<std::shared_ptr<pinn::AdaptiveMethod>> methods;
};

// Trains `problem` up to step `until`, checkpointing in `folder`; with `resume`, from the checkpoint there.
inline AdaptiveRun train_adaptive(const pinn::Problem& problem, const std::filesystem::path& folder, int64_t until,
                                  bool resume) {
  AdaptiveRun run;
  run.solver = std::make_unique<pinn::Solver>(problem, Runtime::create(problem.runtime));
  run.methods = pinn::make_adaptive_methods(problem.adaptive, *run.solver);
  auto options = problem.trainer;
  options.progress("none").output_dir(folder.string());
  auto* solver = run.solver.get();
  Trainer trainer(solver->network().ptr(), [solver](int64_t s) { return solver->loss(s); }, options);
  for (const auto& m : run.methods) trainer.add_hook(m);
  if (resume && !trainer.resume()) throw std::runtime_error("no checkpoint to resume in " + folder.string());
  trainer.run(until);
  return run;
}

// What a resumed run must reproduce: the network's parameters, the interior points and their weights (a zero
// placeholder without), and the loss terms.
inline std::vector<torch::Tensor> training_state(pinn::Solver& solver) {
  std::vector<torch::Tensor> state;
  for (const auto& p : solver.network()->parameters()) state.push_back(p.detach().clone());
  state.push_back(solver.interior().clone());
  state.push_back(solver.interior_weights().defined() ? solver.interior_weights().clone() : torch::zeros({1}));
  for (const auto& [name, value] : solver.loss(-1)) state.push_back(value.detach());
  return state;
}

// Two runs' states (tensor lists) are identical, tensor by tensor.
inline void require_identical(const std::vector<torch::Tensor>& a, const std::vector<torch::Tensor>& b) {
  REQUIRE(a.size() == b.size());
  for (std::size_t i = 0; i < a.size(); ++i) {
    INFO("tensor " << i);
    REQUIRE(a[i].sizes() == b[i].sizes());
    REQUIRE(torch::equal(a[i], b[i]));
  }
}

}  // namespace physis::test
