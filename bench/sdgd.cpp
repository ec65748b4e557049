// The SDGD paper's high-dimensional benchmark (pinn/highdim.h): trains, or times a few steps, and prints the
// relative L2 error, steps/s and peak memory.
//   bench_sdgd --dim 1000 --equation poisson --dims 100 --steps 10000          # train, as the paper
//   bench_sdgd --dim 100000 --time-steps 20                                     # steps/s and peak memory only
//   bench_sdgd --dim 1000 --time-steps 20 --nested                              # backward-of-backward instead
#include "core/runtime.h"
#include "core/trainer.h"
#include "pinn/highdim.h"

#include <ATen/Parallel.h>
#include <CLI/CLI.hpp>
#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <stdexcept>
#include <string>
#include <vector>

using namespace physis;

namespace {
double peak_rss_mib() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_maxrss) / 1024.0;  // Linux: KiB
}
// The c_i of a file (any whitespace between numbers); none: an undefined tensor (drawn from the seed).
torch::Tensor read_coefficients(const std::string& path) {
  if (path.empty()) return {};
  std::ifstream in(path);
  std::vector<double> values;
  std::string word;
  while (in >> word) {
    try {
      std::size_t used = 0;
      values.push_back(std::stod(word, &used));
      if (used != word.size()) throw std::invalid_argument(word);
    } catch (const std::exception&) {
      throw std::runtime_error(path + ": '" + word + "' is not a number (expected the d - 1 coefficients c_i)");
    }
  }
  return torch::tensor(values, torch::kFloat64);
}
}  // namespace

int run(int argc, char** argv) {
  CLI::App app{"SDGD high-dimensional PINN benchmark (unit ball, Hu et al. 2023)"};
  int64_t dim = 100, dims = 100, steps = 10000, time_steps = 0, points = 100, test_points = 20000, probes = 0;
  std::string equation = "poisson", form = "unbiased", output, dtype = "float32", device = "cpu", init = "glorot";
  std::string coefficients;
  double lr = 1e-3;
  uint64_t seed = 0;
  int threads = 1;
  bool nested = false;
  app.add_option("--dim", dim, "dimension d")->capture_default_str();
  app.add_option("--equation", equation, "poisson, allen_cahn or sine_gordon")->capture_default_str();
  app.add_option("--dims", dims, "SDGD: axes drawn per step (>= d: the exact Laplacian)")->capture_default_str();
  app.add_option("--probes", probes, "Hutchinson probes per step instead of SDGD axes (0: SDGD)");
  app.add_option("--form", form, "biased, unbiased or detached")->capture_default_str();
  app.add_option("--steps", steps, "Adam steps (lr decays linearly to 0)")->capture_default_str();
  app.add_option("--time-steps", time_steps, "only time this many steps (after 3 warm-up steps)");
  app.add_option("--points", points, "residual points per step")->capture_default_str();
  app.add_option("--test-points", test_points, "test points for the relative L2 error")->capture_default_str();
  app.add_option("--lr", lr, "initial learning rate")->capture_default_str();
  app.add_option("--seed", seed, "seed of c_i, the network and the points")->capture_default_str();
  app.add_option("--coefficients", coefficients,
                 "file of the d - 1 coefficients c_i (whitespace-separated) instead of drawing them from the seed, "
                 "e.g. the paper's instance: numpy.random.seed(0); numpy.random.randn(d - 1)")
      ->check(CLI::ExistingFile);
  app.add_option("--threads", threads, "intra-op threads")->capture_default_str();
  app.add_option("--init", init, "network weights: glorot (zero biases) or fan_in (LibTorch's Linear default)")
      ->capture_default_str();
  app.add_option("--dtype", dtype, "float32 or float64")->capture_default_str();
  app.add_option("--device", device, "cpu or cuda")->capture_default_str();
  app.add_option("--output", output, "folder for history.csv (none: no files)");
  app.add_flag("--nested", nested, "second derivatives by backward-of-backward instead of Taylor mode");
  CLI11_PARSE(app, argc, argv);

  at::set_num_threads(threads);
  seed_everything(seed);
  const auto options = torch::TensorOptions().dtype(parse_dtype(dtype)).device(parse_device(device));
  pinn::StochasticLaplacian laplacian;
  if (probes > 0) {
    laplacian.estimator = pinn::LaplacianEstimator::hutchinson;
    laplacian.samples = probes;
  } else {
    laplacian.samples = dims;
  }
  laplacian.form = form == "biased" ? pinn::SquaredResidualForm::biased
                   : form == "detached" ? pinn::SquaredResidualForm::detached
                                        : pinn::SquaredResidualForm::unbiased;
  pinn::HighDimPinn pinn(pinn::HighDimOptions()
                             .dim(dim)
                             .equation(pinn::parse_high_dim_equation(equation))
                             .init(init)
                             .points(points)
                             .laplacian(laplacian)
                             .nested_backward(nested)
                             .test_points(test_points)
                             .seed(seed)
                             .coefficients(read_coefficients(coefficients)),
                         options);
  std::printf("config dim=%lld equation=%s %s=%lld form=%s derivatives=%s points=%lld threads=%d dtype=%s device=%s\n",
              static_cast<long long>(dim), equation.c_str(), probes > 0 ? "probes" : "dims",
              static_cast<long long>(probes > 0 ? probes : dims), form.c_str(), nested ? "nested" : "taylor",
              static_cast<long long>(points), threads, dtype.c_str(), device.c_str());

  const auto phase = PhaseOptions().optimizer("adam").lr(lr).schedule("linear").min_lr(0.0);
  if (time_steps > 0) {
    Trainer trainer(pinn.network().ptr(), [&](int64_t step) { return pinn.loss(step); },
                    TrainerOptions().phases({PhaseOptions(phase).steps(time_steps + 3)}).progress("none"));
    trainer.run(3);
    const auto t0 = std::chrono::steady_clock::now();
    trainer.run();
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::printf("steps_per_s %.3f\nseconds_per_step %.5f\npeak_rss_mib %.1f\n", time_steps / seconds,
                seconds / time_steps, peak_rss_mib());
    return 0;
  }
  Trainer trainer(pinn.network().ptr(), [&](int64_t step) { return pinn.loss(step); },
                  TrainerOptions()
                      .phases({PhaseOptions(phase).steps(steps)})
                      .output_dir(output)
                      .eval_every(std::max<int64_t>(1, steps / 10))
                      .checkpoint_every(steps)
                      .label("sdgd d=" + std::to_string(dim)));
  trainer.set_evaluator([&] { return pinn.evaluate(); });
  const auto t0 = std::chrono::steady_clock::now();
  auto result = trainer.run();
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const auto metrics = pinn.evaluate();
  std::printf("l2re_u %.4e\nsteps %lld\nwall_s %.1f\nsteps_per_s %.3f\npeak_rss_mib %.1f\n", metrics.front().second,
              static_cast<long long>(result.steps), seconds, steps / seconds, peak_rss_mib());
  return 0;
}

int main(int argc, char** argv) {
  try {
    return run(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_sdgd: error: %s\n", e.what());
    return 1;
  }
}
