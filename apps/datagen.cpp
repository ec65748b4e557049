// `physis datagen GENERATOR -o FILE`: generates an operator-learning dataset (antiderivative, darcy,
// darcy-multigeometry, fisher, fea) and writes it atomically as .h5 or .pt; fea also writes a .vtu collection beside it.
#include "apps/commands.h"
#include "core/build_config.h"
#include "core/progress.h"
#include "core/runtime.h"
#include "operators/datagen.h"
#include "operators/dataset_io.h"
#include "operators/fea_column.h"
#include "operators/fisher.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <optional>
#include <set>

namespace physis::app {

namespace {

namespace fs = std::filesystem;

const std::vector<std::string> generators = {"antiderivative", "darcy", "darcy-multigeometry", "fisher", "fea"};

// darcy-multigeometry's --geometry values: every geometry, or all.
std::vector<std::string> geometry_choices() {
  auto choices = ops::darcy_geometry_names();
  choices.push_back("all");
  return choices;
}

struct DatagenArgs {
  std::string generator, output, progress = "auto", solver = "direct", geometry = "all", dtype = "float32";
  std::string reaction = "all";
  int64_t samples = 0, resolution = 0, solve_resolution = 0, sensors = 100, queries = 100;
  bool random_queries = false;
  double length_scale = 0.2, log_std = 1.0, mesh_size = 3.0, shortening = 3.0;
  int64_t increments = 20;
  std::string ccx;
  uint64_t seed = 0;
  int threads = 0;
  std::map<std::string, CLI::Option*> options;  // generator-specific options by name
};

// Options that only some generators read; giving one to another generator is a usage error.
const std::map<std::string, std::set<std::string>> applies_to = {
    {"--sensors", {"antiderivative"}},      {"--queries", {"antiderivative"}},
    {"--random-queries", {"antiderivative"}}, {"--length-scale", {"antiderivative", "fisher"}},
    {"--solve-resolution", {"darcy"}},      {"--resolution", {"darcy", "darcy-multigeometry", "fisher"}},
    {"--solver", {"darcy", "darcy-multigeometry"}}, {"--geometry", {"darcy-multigeometry"}},
    {"--log-std", {"darcy-multigeometry"}}, {"--mesh-size", {"fea"}}, {"--shortening", {"fea"}},
    {"--increments", {"fea"}}, {"--ccx", {"fea"}}, {"--reaction", {"fisher"}}};

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
  if (a.generator == "fisher") {
    ops::FisherOptions o;
    if (a.samples > 0) o.samples(a.samples);
    if (a.resolution > 0) o.points(a.resolution);
    if (a.options.at("--length-scale")->count()) o.length_scale(a.length_scale);
    return ops::generate_fisher(o.reaction(a.reaction).seed(a.seed).dtype(dtype), progress);
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

bool is_dataset_file(const fs::path& path) {
  const auto extension = path.extension().string();
  return extension == ".pt" || extension == ".h5" || extension == ".hdf5";
}

// fea's job folders: failed designs keep theirs here, beside the dataset.
fs::path fea_jobs(const fs::path& output) {
  return (output.has_parent_path() ? output.parent_path() : fs::path(".")) / (output.stem().string() + "_failed");
}

ops::FeaColumnData generate_fea(const DatagenArgs& a, const fs::path& output, const ops::GenerationProgress& progress) {
  ops::FeaColumnOptions o;
  if (a.samples > 0) o.samples(a.samples);
  o.mesh_size(a.mesh_size).shortening(a.shortening).increments(a.increments).executable(a.ccx);
  o.job_folder(fea_jobs(output));
  return ops::generate_fea_column(o.seed(a.seed).dtype(parse_dtype(a.dtype)), progress);
}

// Lists the failed designs (and keeps the list in STEM_failed/failures.csv); false when every design failed.
bool report_fea_failures(const ops::FeaColumnData& fea, const fs::path& output) {
  const auto jobs = fea_jobs(output);
  std::error_code ignored;
  if (fea.failures.empty()) {
    fs::remove(jobs, ignored);  // only when empty: every job folder of a converged design is already gone
    return true;
  }
  const auto total = static_cast<int64_t>(fea.failures.size() + fea.designs.size());
  std::cerr << "physis datagen: " << fea.failures.size() << " of " << total
            << " designs failed and are left out (job files in " << jobs.string() << "):\n";
  fs::create_directories(jobs);
  std::ofstream list(jobs / "failures.csv");
  list << "design,reason\n";
  for (const auto& f : fea.failures) {
    std::cerr << "  design " << f.design << ": " << f.reason << "\n";
    std::string quoted;  // CSV quoting: the reason in double quotes, its own double quotes doubled
    for (char c : f.reason) quoted += c == '"' ? std::string("\"\"") : std::string(1, c);
    list << f.design << ",\"" << quoted << "\"\n";
  }
  return !fea.designs.empty();
}

int run_datagen(const DatagenArgs& a) {
  for (const auto& [name, option] : a.options)
    if (option->count() && !applies_to.at(name).count(a.generator)) {
      std::cerr << "physis datagen: error: " << name << " does not apply to the " << a.generator << " generator\n";
      return 2;
    }
  fs::path output = a.output;
  // fea writes a folder (the dataset, a CSV and a .vtu per design) unless given the dataset file itself.
  if (a.generator == "fea" && !is_dataset_file(output)) output /= PHYSIS_HAVE_HDF5 ? "fea.h5" : "fea.pt";
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
    std::optional<ops::FeaColumnData> fea;
    if (a.generator == "fea") fea = generate_fea(a, output, progress);
    auto data = fea ? fea->data : generate(a, progress);
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    char rate[96];
    std::snprintf(rate, sizeof rate, "%.1f samples/s", static_cast<double>(data.size()) / seconds);
    if (bar) bar->finish(rate);
    if (fea && !report_fea_failures(*fea, output)) {
      std::cerr << "physis datagen: error: every design failed; nothing was written to " << output.string() << "\n";
      return 1;
    }
    data.validate();
    write_atomically(data, output);
    if (fea && PHYSIS_HAVE_VTK) {
      const auto csv = fs::path(output).replace_extension(".csv");
      ops::write_fea_collection(*fea, csv);
      std::cout << "wrote " << csv.string() << " with a .vtu and a history CSV per design in "
                << (csv.parent_path() / csv.stem()).string() << std::endl;
    } else if (fea) {
      std::cout << "this physis build lacks VTK: no .vtu collection written (the dataset has every result)"
                << std::endl;
    }
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
  app.add_option("generator", a->generator, "antiderivative, darcy, darcy-multigeometry, fisher or fea (see docs/datagen.md)")
      ->required()
      ->check(CLI::IsMember(generators));
  app.add_option("-o,--output", a->output,
                 "Dataset file to write: .h5/.hdf5 (HDF5) or .pt (LibTorch); fea also takes a folder")
      ->required();
  app.add_option("--samples", a->samples,
                 "Number of samples (default: antiderivative and fisher 1000, darcy and darcy-multigeometry 1200, fea 250)")
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
  o["--length-scale"] = app.add_option("--length-scale", a->length_scale,
                                       "antiderivative: RBF length scale of u (default 0.2); fisher: of u0's field "
                                       "(default 0.1)")
                            ->check(CLI::PositiveNumber);
  o["--resolution"] = app.add_option("--resolution", a->resolution,
                                     "darcy: output grid (default 85); darcy-multigeometry: grid (default 100); fisher: x "
                                     "points (default 100)")
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
                                   "darcy-multigeometry: square, circle, triangle, cross (held out for transfer), "
                                   "lshape, frame, or all (square, circle, triangle in turn)")
                        ->check(CLI::IsMember(geometry_choices()))
                        ->capture_default_str();
  o["--log-std"] = app.add_option("--log-std", a->log_std, "darcy-multigeometry: pointwise std of log a")
                       ->check(CLI::PositiveNumber)
                       ->capture_default_str();
  o["--mesh-size"] = app.add_option("--mesh-size", a->mesh_size, "fea: largest element edge, mm")
                         ->check(CLI::PositiveNumber)
                         ->capture_default_str();
  o["--shortening"] = app.add_option("--shortening", a->shortening, "fea: top displacement at full load, mm")
                          ->check(CLI::PositiveNumber)
                          ->capture_default_str();
  o["--increments"] = app.add_option("--increments", a->increments, "fea: load fractions stored in the history")
                          ->check(CLI::Range(int64_t{1}, int64_t{1000}))
                          ->capture_default_str();
  o["--reaction"] = app.add_option("--reaction", a->reaction,
                                   "fisher: logistic (c (u - u^2)), cubic (c (u - u^3)) or all (the two in turn)")
                        ->check(CLI::IsMember({"logistic", "cubic", "all"}))
                        ->capture_default_str();
  o["--ccx"] = app.add_option("--ccx", a->ccx, "fea: the CalculiX executable (default: $PHYSIS_CCX, else ccx on PATH)");
  return [a]() { return run_datagen(*a); };
}

}  // namespace physis::app
