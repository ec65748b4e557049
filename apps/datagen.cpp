// `physis datagen GENERATOR -o FILE`: generates an operator-learning dataset (antiderivative, darcy,
// darcy-multigeometry) and writes it atomically as .h5 or .pt.
#include "apps/commands.h"
#include "core/build_config.h"
#include "core/progress.h"
#include "core/runtime.h"
#include "operators/datagen.h"
#include "operators/dataset_io.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <map>
#include <optional>
#include <set>

namespace physis::app {

namespace {

namespace fs = std::filesystem;

const std::vector<std::string> generators = {"antiderivative", "darcy", "darcy-multigeometry"};

struct DatagenArgs {
  std::string generator, output, progress = "auto", solver = "direct", geometry = "all", dtype = "float32";
  int64_t samples = 0, resolution = 0, solve_resolution = 0, sensors = 100, queries = 100;
  bool random_queries = false;
  double length_scale = 0.2, log_std = 1.0;
  uint64_t seed = 0;
  int threads = 0;
  std::map<std::string, CLI::Option*> options;  // generator-specific options by name
};

// Options that only some generators read; giving one to another generator is a usage error.
const std::map<std::string, std::set<std::string>> applies_to = {
    {"--sensors", {"antiderivative"}},      {"--queries", {"antiderivative"}},
    {"--random-queries", {"antiderivative"}}, {"--length-scale", {"antiderivative"}},
    {"--solve-resolution", {"darcy"}},      {"--resolution", {"darcy", "darcy-multigeometry"}},
    {"--solver", {"darcy", "darcy-multigeometry"}}, {"--geometry", {"darcy-multigeometry"}},
    {"--log-std", {"darcy-multigeometry"}}};

volatile std::sig_atomic_t interrupted = 0;

extern "C" void on_interrupt(int) {
  interrupted = 1;
  std::signal(SIGINT, SIG_DFL);  // a second Ctrl-C stops at once (the output file is still never half-written)
}

struct Interrupted {};

// Restores the previous SIGINT/SIGTERM handlers when the command ends.
class InterruptGuard {
 public:
  InterruptGuard() : int_(std::signal(SIGINT, on_interrupt)), term_(std::signal(SIGTERM, on_interrupt)) {}
  ~InterruptGuard() {
    std::signal(SIGINT, int_);
    std::signal(SIGTERM, term_);
  }
  InterruptGuard(const InterruptGuard&) = delete;
  InterruptGuard& operator=(const InterruptGuard&) = delete;

 private:
  void (*int_)(int);
  void (*term_)(int);
};

ops::Dataset generate(const DatagenArgs& a, const ops::GenerationProgress& progress) {
  const auto dtype = parse_dtype(a.dtype);
  if (a.generator == "antiderivative") {
    ops::AntiderivativeOptions o;
    o.sensors(a.sensors).queries(a.queries).random_queries(a.random_queries).length_scale(a.length_scale);
    if (a.samples > 0) o.samples(a.samples);
    return ops::generate_antiderivative(o.seed(a.seed).dtype(dtype), progress);
  }
  if (a.generator == "darcy") {
    ops::DarcyOptions o;
    if (a.samples > 0) o.samples(a.samples);
    if (a.resolution > 0) o.output_resolution(a.resolution);
    o.solve_resolution(a.solve_resolution > 0 ? a.solve_resolution : o.output_resolution());
    return ops::generate_darcy(o.solver(a.solver).seed(a.seed).dtype(dtype), progress);
  }
  ops::DarcyMultiGeometryOptions o;
  if (a.samples > 0) o.samples(a.samples);
  if (a.resolution > 0) o.resolution(a.resolution);
  o.geometry(a.geometry).log_std(a.log_std).solver(a.solver);
  return ops::generate_darcy_multigeometry(o.seed(a.seed).dtype(dtype), progress);
}

// The temporary file beside `output`, with the same extension so that write_dataset picks the same format.
fs::path partial_path(const fs::path& output) {
  const auto folder = output.has_parent_path() ? output.parent_path() : fs::path(".");
  return folder / ("." + output.stem().string() + ".partial-" + std::to_string(::getpid()) +
                   output.extension().string());
}

// Writes through a temporary file renamed over `output`: a failure or Ctrl-C never leaves a half-written file.
void write_atomically(const ops::Dataset& data, const fs::path& output) {
  if (output.has_parent_path()) fs::create_directories(output.parent_path());
  const auto tmp = partial_path(output);
  try {
    ops::write_dataset(data, tmp.string());
    if (interrupted) throw Interrupted{};
    fs::rename(tmp, output);
  } catch (...) {
    std::error_code ignored;
    fs::remove(tmp, ignored);
    throw;
  }
}

int run_datagen(const DatagenArgs& a) {
  for (const auto& [name, option] : a.options)
    if (option->count() && !applies_to.at(name).count(a.generator)) {
      std::cerr << "physis datagen: error: " << name << " does not apply to the " << a.generator << " generator\n";
      return 2;
    }
  const fs::path output = a.output;
  const auto extension = output.extension().string();
  if (extension != ".pt" && extension != ".h5" && extension != ".hdf5") {
    std::cerr << "physis datagen: error: --output must end in .h5, .hdf5 or .pt, not '" << output.string() << "'\n";
    return 2;
  }
  if (a.generator == "darcy" && a.solve_resolution > 0) {
    const int64_t out = a.resolution > 0 ? a.resolution : ops::DarcyOptions().output_resolution();
    if (a.solve_resolution < out || (a.solve_resolution - 1) % (out - 1) != 0) {
      std::cerr << "physis datagen: error: --solve-resolution minus 1 (" << a.solve_resolution - 1
                << ") must be a multiple of the output resolution minus 1 (" << out - 1 << "), e.g. 421 for 85\n";
      return 2;
    }
  }
  if (extension != ".pt" && !PHYSIS_HAVE_HDF5)
    throw std::runtime_error("this physis build lacks HDF5; write a .pt file instead (nothing was generated)");
  auto rt = Runtime::create(RuntimeOptions().device("cpu").threads(a.threads).seed(a.seed));
  std::cout << "physis datagen: " << a.generator << ", seed " << a.seed << ", " << rt.threads << " threads, "
            << a.dtype << " -> " << output.string() << std::endl;

  InterruptGuard guard;
  interrupted = 0;
  std::optional<ProgressBar> bar;
  auto progress = [&](int64_t done, int64_t total) {
    if (interrupted) throw Interrupted{};
    if (!bar) bar.emplace("datagen", total, 0, parse_progress_mode(a.progress), std::max<int64_t>(1, total / 10));
    bar->update(done);
  };
  const auto t0 = std::chrono::steady_clock::now();
  try {
    auto data = generate(a, progress);
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    char rate[96];
    std::snprintf(rate, sizeof rate, "%.1f samples/s", static_cast<double>(data.size()) / seconds);
    if (bar) bar->finish(rate);
    data.validate();
    write_atomically(data, output);
    char took[32];
    std::snprintf(took, sizeof took, "%.2f s", seconds);
    std::cout << "generated " << data.size() << " samples in " << took << " (" << rate << "); wrote "
              << output.string() << " (" << fs::file_size(output) / 1024 << " KiB)" << std::endl;
  } catch (const Interrupted&) {
    std::cerr << "\nphysis datagen: interrupted; nothing was written to " << output.string() << "\n";
    return 130;
  }
  return 0;
}

}  // namespace

Command add_datagen(CLI::App& app) {
  auto a = std::make_shared<DatagenArgs>();
  app.add_option("generator", a->generator, "antiderivative, darcy or darcy-multigeometry (see docs/datagen.md)")
      ->required()
      ->check(CLI::IsMember(generators));
  app.add_option("-o,--output", a->output, "Dataset file to write: .h5/.hdf5 (HDF5) or .pt (LibTorch)")->required();
  app.add_option("--samples", a->samples,
                 "Number of samples (default: antiderivative 1000, darcy and darcy-multigeometry 1200)")
      ->check(CLI::Range(int64_t{1}, int64_t{100000000}));
  app.add_option("--seed", a->seed, "Random seed; sample i depends only on the seed and i")->capture_default_str();
  app.add_option("--dtype", a->dtype, "float32 or float64 for the stored tensors")
      ->check(CLI::IsMember({"float32", "float64"}))
      ->capture_default_str();
  app.add_option("--threads", a->threads, "Intra-op threads generating samples in parallel (default: one per core)");
  app.add_option("--progress", a->progress, "auto, bar, lines or none")
      ->check(CLI::IsMember({"auto", "bar", "lines", "none"}))
      ->capture_default_str();
  auto& o = a->options;
  o["--sensors"] = app.add_option("--sensors", a->sensors, "antiderivative: equispaced sensors of u on [0, 1]")
                       ->check(CLI::Range(2, 100000))
                       ->capture_default_str();
  o["--queries"] = app.add_option("--queries", a->queries, "antiderivative: query points of s per sample")
                       ->check(CLI::PositiveNumber)
                       ->capture_default_str();
  o["--random-queries"] =
      app.add_flag("--random-queries", a->random_queries, "antiderivative: uniform random query points per sample");
  o["--length-scale"] = app.add_option("--length-scale", a->length_scale, "antiderivative: RBF length scale of u")
                            ->check(CLI::PositiveNumber)
                            ->capture_default_str();
  o["--resolution"] = app.add_option("--resolution", a->resolution,
                                     "darcy: output grid (default 85); darcy-multigeometry: grid (default 100)")
                          ->check(CLI::Range(3, 100000));
  o["--solve-resolution"] =
      app.add_option("--solve-resolution", a->solve_resolution,
                     "darcy: solver grid (default: the output grid); (solve - 1) must be a multiple of (output - 1), "
                     "e.g. 421 for 85 as in the FNO paper")
          ->check(CLI::Range(3, 100000));
  o["--solver"] = app.add_option("--solver", a->solver, "darcy*: direct (sparse LDLT) or cg (IC-preconditioned CG)")
                      ->check(CLI::IsMember({"direct", "cg"}))
                      ->capture_default_str();
  o["--geometry"] = app.add_option("--geometry", a->geometry,
                                   "darcy-multigeometry: square, circle, triangle, cross or all (square, circle, "
                                   "triangle in turn)")
                        ->check(CLI::IsMember({"square", "circle", "triangle", "cross", "all"}))
                        ->capture_default_str();
  o["--log-std"] = app.add_option("--log-std", a->log_std, "darcy-multigeometry: pointwise std of log a")
                       ->check(CLI::PositiveNumber)
                       ->capture_default_str();
  return [a]() { return run_datagen(*a); };
}

}  // namespace physis::app
