// `physis solve [FILE]`: trains a PINN on a problem file (or the built-in 2D Poisson problem) and writes results.
#include "apps/commands.h"
#include "apps/training_run.h"
#include "core/checkpoint.h"
#include "core/config.h"
#include "core/runtime.h"
#include "core/trainer.h"
#include "pinn/adaptive.h"
#include "pinn/default_problem.h"
#include "pinn/problem.h"
#include "pinn/solver.h"

#include <cmath>
#include <filesystem>
#include <iostream>
#include <stdexcept>

namespace physis::app {

namespace {

struct SolveArgs {
  std::string problem;
  std::string output;
  std::string device = "auto";
  std::string dtype = "float32";
  std::string progress = "auto";
  std::vector<std::string> overrides;  // --set KEY=VALUE
  int64_t steps = -1;
  int64_t checkpoint_every = 0;
  int64_t interior_points = 0, boundary_points = 0, initial_points = 0;
  uint64_t seed = 0;
  int threads = 0;
  bool resume = false;
  bool autograd = false;
  CLI::Option *device_opt = nullptr, *dtype_opt = nullptr, *seed_opt = nullptr;
};

// Runs the trainer with the resume/overwrite rules every training command shares.
TrainResult train(const std::shared_ptr<torch::nn::Module>& model, LossFunction loss, std::function<Metrics()> evaluate,
                  TrainerOptions options, const SolveArgs& a,
                  const std::vector<std::shared_ptr<pinn::AdaptiveMethod>>& methods = {}, bool resume = false,
                  int64_t until = -1) {
  options.progress(a.progress);
  if (a.checkpoint_every > 0) options.checkpoint_every(a.checkpoint_every);
  Trainer trainer(model, std::move(loss), options);
  trainer.set_evaluator([evaluate = std::move(evaluate), &methods] {
    auto metrics = evaluate();
    for (const auto& method : methods)
      for (auto& entry : method->metrics()) metrics.push_back(std::move(entry));
    return metrics;
  });
  for (const auto& method : methods) trainer.add_hook(method);
  return run_trainer(trainer, a.resume || resume, until);
}

// --steps N rescales the phases so that they add up to N (each keeps at least one step).
void override_steps(TrainerOptions& options, int64_t steps) {
  auto phases = options.phases();
  const double total = static_cast<double>(options.total_steps());
  int64_t assigned = 0;
  for (std::size_t i = 0; i + 1 < phases.size(); ++i) {
    phases[i].steps(std::max<int64_t>(1, std::llround(static_cast<double>(phases[i].steps()) * steps / std::max(1.0, total))));
    assigned += phases[i].steps();
  }
  phases.back().steps(std::max<int64_t>(1, steps - assigned));  // the last phase takes the remainder
  options.phases(phases);
}

int solve_builtin(const SolveArgs& a) {
  if (!a.overrides.empty())
    throw std::invalid_argument("--set changes keys of a problem file; give one (e.g. physis solve "
                                "problems/poisson2d_c.yaml --set " + a.overrides.front() + ")");
  auto rt = Runtime::create(RuntimeOptions().device(a.device).dtype(a.dtype).seed(a.seed).threads(a.threads));
  const std::string out = a.output.empty() ? "results/poisson2d" : a.output;
  std::cout << "physis solve: built-in problem -laplace(u) = 2 pi^2 sin(pi x) sin(pi y) on (0,1)^2, u = 0 on the "
               "boundary\n";
  std::cout << "device " << rt.device << ", " << dtype_name(rt.dtype) << ", " << rt.threads << " threads, results in "
            << out << std::endl;
  pinn::DefaultPoissonOptions options;
  options.taylor(!a.autograd);
  if (a.interior_points > 0) options.interior_points(a.interior_points);
  if (a.boundary_points > 0) options.boundary_points(a.boundary_points);
  pinn::DefaultPoisson problem(options, rt);
  auto trainer_options = problem.trainer_options(out);
  if (a.steps > 0) override_steps(trainer_options, a.steps);
  auto result = train(problem.network().ptr(), [&](int64_t step) { return problem.loss(step); },
                      [&] { return problem.evaluate(); }, trainer_options, a);
  problem.write_fields(out);
  report(result);
  std::cout << "wrote " << out << "/: checkpoint.pt, history.csv, solution.vti (ParaView), solution.csv, PNG plots"
            << std::endl;
  return 0;
}

// <out>/problem.yaml: the problem file as this run read it, overrides applied (its comments and layout are not kept).
void write_problem_as_run(const config::Section& root, const SolveArgs& a, const std::filesystem::path& out) {
  YAML::Emitter yaml;
  yaml << root.node();
  atomic_write(out / "problem.yaml", [&](std::ostream& file) {
    file << "# The problem as `physis solve` ran it: " << a.problem;
    for (const auto& assignment : a.overrides) file << " --set '" << assignment << "'";
    file << "\n# Relative paths in it resolve from that file's folder, not from this one.\n" << yaml.c_str() << "\n";
  });
}

int solve_file(const SolveArgs& a) {
  auto root = config::Section::load_file(a.problem, a.overrides);
  auto problem = pinn::Problem::from_section(root);
  if (a.device_opt->count()) problem.runtime.device(a.device);
  if (a.dtype_opt->count()) problem.runtime.dtype(a.dtype);
  if (a.seed_opt->count()) problem.runtime.seed(a.seed);
  problem.runtime.threads(a.threads);
  if (a.autograd) problem.derivatives = pinn::DerivativeMode::autograd;
  problem.override_points(a.interior_points, a.boundary_points, a.initial_points);
  const std::string out = a.output.empty() ? "results/" + problem.name : a.output;
  auto options = problem.trainer;
  if (a.steps > 0) override_steps(options, a.steps);
  options.output_dir(out).label(problem.name);
  // Phases may change precision (`dtype:` per phase, e.g. float32 Adam then float64 L-BFGS): each run of phases in
  // one precision trains with its own solver, the later ones resuming from the checkpoint, which converts the
  // network. A resumed run skips the runs of phases its checkpoint has passed.
  const auto segments = options.precision_segments(problem.runtime.dtype());
  if (segments.size() > 1) problem.sampling.draw_dtype = parse_dtype(segments.front().second);  // one point set
  int64_t reached = 0;
  if (a.resume && segments.size() > 1 && std::filesystem::exists(options.checkpoint_path()))
    reached = Trainer::checkpoint_step(options.checkpoint_path());
  std::unique_ptr<pinn::Solver> solver;
  TrainResult result;
  double seconds = 0;
  bool started = false;  // a run of phases has trained in this command: the next one resumes from its checkpoint
  for (std::size_t k = 0; k < segments.size(); ++k) {
    const auto& [end, dtype] = segments[k];
    if (end <= reached && k + 1 < segments.size()) continue;
    problem.runtime.dtype(dtype);
    auto rt = Runtime::create(problem.runtime);
    solver.reset();  // one solver's tensors at a time
    solver = std::make_unique<pinn::Solver>(problem, rt);
    auto methods = pinn::make_adaptive_methods(problem.adaptive, *solver, options.total_steps());
    if (!started) {
      std::cout << "physis solve: " << problem.name << " (" << a.problem << "), " << problem.equations.size()
                << " equation(s), " << problem.conditions.size() << " condition(s), derivatives by "
                << (solver->uses_taylor() ? "forward (Taylor) mode" : "reverse mode") << "\n";
      std::cout << "device " << rt.device << ", " << dtype_name(rt.dtype) << ", " << rt.threads << " threads, "
                << options.total_steps() << " steps, results in " << out << std::endl;
      for (const auto& m : methods) std::cout << "adaptive method: " << m->name() << "\n";
      const auto& scale = problem.network.output_scale;  // given in the file, or `auto` from the data
      const auto& shift = problem.network.output_shift;
      if (!scale.empty() || !shift.empty()) {
        std::cout << "output scaling:";
        for (std::size_t j = 0; j < problem.symbols.outputs.size(); ++j)
          std::cout << (j ? ", " : " ") << problem.symbols.outputs[j] << " = " << (scale.empty() ? 1.0 : scale[j])
                    << " raw + " << (shift.empty() ? 0.0 : shift[j]);
        std::cout << std::endl;
      }
    }
    auto& s = *solver;
    result = train(s.network().ptr(), [&](int64_t step) { return s.loss(step); }, [&] { return s.evaluate(); },
                   options, a, methods, started, end);
    seconds += result.seconds;
    started = true;
  }
  result.seconds = seconds;
  solver->write_results(out);
  write_problem_as_run(root, a, out);
  report(result);
  std::cout << "wrote " << out << "/: checkpoint.pt, history.csv, problem.yaml, fields (.vti/.pvd for ParaView, .csv), "
               "PNG plots"
            << std::endl;
  return 0;
}

}  // namespace

Command add_solve(CLI::App& app) {
  auto a = std::make_shared<SolveArgs>();
  app.add_option("problem", a->problem, "Problem file (YAML); without one, the built-in 2D Poisson problem")
      ->check(CLI::ExistingFile);
  app.add_option("-o,--output", a->output, "Results folder (default: results/<problem name>)");
  a->device_opt = app.add_option("--device", a->device, "auto, cpu, cuda or cuda:N (overrides the problem file)")
                      ->capture_default_str();
  a->dtype_opt = app.add_option("--dtype", a->dtype, "float32 or float64 (overrides the problem file)")
                     ->check(CLI::IsMember({"float32", "float64"}))
                     ->capture_default_str();
  app.add_option("--steps", a->steps, "Total training steps (phases are rescaled to add up to it)")
      ->check(CLI::PositiveNumber);
  app.add_option("--interior-points", a->interior_points,
                 "Collocation points in the domain (overrides training.interior_points)")
      ->check(CLI::PositiveNumber);
  app.add_option("--boundary-points", a->boundary_points,
                 "Points per boundary condition without its own `points` (overrides training.boundary_points)")
      ->check(CLI::PositiveNumber);
  app.add_option("--initial-points", a->initial_points,
                 "Points per initial condition without its own `points` (overrides training.initial_points)")
      ->check(CLI::PositiveNumber);
  app.add_option("--checkpoint-every", a->checkpoint_every, "Steps between checkpoints (default 1000)")
      ->check(CLI::PositiveNumber);
  add_set_option(app, a->overrides, "problem file", "network.hidden=[64,64,64,64] or --set training.phases[0].lr=1e-4");
  a->seed_opt = app.add_option("--seed", a->seed, "Random seed (overrides the problem file)")->capture_default_str();
  app.add_option("--threads", a->threads, "Intra-op threads (default: one per core)");
  app.add_option("--progress", a->progress, "auto, bar, lines or none")
      ->check(CLI::IsMember({"auto", "bar", "lines", "none"}))
      ->capture_default_str();
  app.add_flag("--resume", a->resume,
               "Continue from the checkpoint in the results folder (with another --dtype: the network is converted, "
               "the optimizer starts afresh)");
  app.add_flag("--autograd", a->autograd, "Derivatives by nested reverse mode instead of forward (Taylor) mode");
  return [a]() { return a->problem.empty() ? solve_builtin(*a) : solve_file(*a); };
}

}  // namespace physis::app
