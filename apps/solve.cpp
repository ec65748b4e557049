// `physis solve [FILE]`: trains a PINN and writes results (checkpoint, history, fields).
#include "apps/commands.h"
#include "core/runtime.h"
#include "core/trainer.h"
#include "pinn/default_problem.h"

#include <filesystem>
#include <iostream>

namespace physis::app {

namespace {
struct SolveArgs {
  std::string problem;
  std::string output;
  std::string device = "auto";
  std::string dtype = "float32";
  std::string progress = "auto";
  int64_t steps = -1;
  int64_t checkpoint_every = 0;
  uint64_t seed = 0;
  int threads = 0;
  bool resume = false;
  bool autograd = false;
};
}  // namespace

Command add_solve(CLI::App& app) {
  auto a = std::make_shared<SolveArgs>();
  app.add_option("problem", a->problem, "Problem file (YAML); without one, the built-in 2D Poisson problem")
      ->check(CLI::ExistingFile);
  app.add_option("-o,--output", a->output, "Results folder (default: results/<problem name>)");
  app.add_option("--device", a->device, "auto, cpu, cuda or cuda:N")->capture_default_str();
  app.add_option("--dtype", a->dtype, "float32 or float64")->check(CLI::IsMember({"float32", "float64"}))->capture_default_str();
  app.add_option("--steps", a->steps, "Override the number of training steps")->check(CLI::PositiveNumber);
  app.add_option("--checkpoint-every", a->checkpoint_every, "Steps between checkpoints (default 1000)")
      ->check(CLI::PositiveNumber);
  app.add_option("--seed", a->seed, "Random seed")->capture_default_str();
  app.add_option("--threads", a->threads, "Intra-op threads (default: one per core)");
  app.add_option("--progress", a->progress, "auto, bar, lines or none")
      ->check(CLI::IsMember({"auto", "bar", "lines", "none"}))->capture_default_str();
  app.add_flag("--resume", a->resume, "Continue from the checkpoint in the results folder");
  app.add_flag("--autograd", a->autograd, "Derivatives by nested reverse mode instead of forward (Taylor) mode");
  return [a]() {
    if (!a->problem.empty()) {
      std::cerr << "physis solve: problem files are not supported by this version yet; run `physis solve` without "
                   "a file for the built-in 2D Poisson problem\n";
      return 1;
    }
    auto rt = Runtime::create(RuntimeOptions().device(a->device).dtype(a->dtype).seed(a->seed).threads(a->threads));
    const std::string out = a->output.empty() ? "results/poisson2d" : a->output;
    std::cout << "physis solve: built-in problem -laplace(u) = 2 pi^2 sin(pi x) sin(pi y) on (0,1)^2, u = 0 on the "
                 "boundary\n";
    std::cout << "device " << rt.device << ", " << dtype_name(rt.dtype) << ", " << rt.threads << " threads, results in "
              << out << "\n";
    pinn::DefaultPoissonOptions options;
    if (a->steps > 0) options.steps(a->steps);
    options.taylor(!a->autograd);
    pinn::DefaultPoisson problem(options, rt);
    auto trainer_options = problem.trainer_options(out);
    trainer_options.progress(a->progress);
    if (a->checkpoint_every > 0) trainer_options.checkpoint_every(a->checkpoint_every);
    auto net = problem.network();
    Trainer trainer(net.ptr(), [&](int64_t step) { return problem.loss(step); }, trainer_options);
    trainer.set_evaluator([&] { return problem.evaluate(); });
    if (a->resume) {
      if (!trainer.resume())
        throw std::runtime_error("--resume: no checkpoint at '" + trainer.checkpoint_path().string() +
                                 "'; run without --resume to start");
      std::cout << "resumed at step " << trainer.step() << "\n";
    } else if (std::filesystem::exists(trainer.checkpoint_path())) {
      throw std::runtime_error("'" + out + "' already holds a run; pass --resume to continue it or --output to "
                               "write elsewhere (nothing was overwritten)");
    }
    auto result = trainer.run();
    problem.write_fields(out);
    std::cout << "done: " << result.steps << " steps in " << result.seconds << " s, final loss " << result.loss;
    for (const auto& [name, value] : result.metrics) std::cout << ", " << name << " " << value;
    std::cout << "\nwrote " << out << "/{checkpoint.pt, history.csv, solution.csv}\n";
    return 0;
  };
}

}  // namespace physis::app
