// The training engine every physis model trains through: optimizer phases, learning-rate schedules, gradient
// clipping, progress, history CSV, exact checkpoint/resume and NaN detection.
//
//   TrainerOptions opts;
//   opts.phases({PhaseOptions().optimizer("adam").steps(20000).lr(1e-3), PhaseOptions().optimizer("lbfgs").steps(500)})
//       .output_dir("results/poisson");
//   Trainer trainer(net, [&](int64_t step) { return LossTerms{{"pde", pde_loss()}, {"bc", bc_loss()}}; }, opts);
//   trainer.run();
#pragma once

#include "core/progress.h"

#include <torch/nn/module.h>
#include <torch/optim/optimizer.h>
#include <torch/types.h>

#include <cmath>
#include <filesystem>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace physis {

namespace config {
class Section;
}
class CsvWriter;

// Named loss terms, already weighted; the training loss is their sum.
using LossTerms = std::vector<std::pair<std::string, torch::Tensor>>;
using LossFunction = std::function<LossTerms(int64_t step)>;
// Named scalar metrics (e.g. relative L2 error per output), logged beside the losses.
using Metrics = std::vector<std::pair<std::string, double>>;

struct PhaseOptions {
  TORCH_ARG(std::string, optimizer) = "adam";  // adam | adamw | lbfgs
  TORCH_ARG(int64_t, steps) = 1000;            // for lbfgs: iterations
  TORCH_ARG(double, lr) = 0.0;                 // 0: the optimizer's default (1e-3 Adam/AdamW, 1 L-BFGS)
  TORCH_ARG(double, weight_decay) = 0.0;       // adamw: decoupled decay (default 0.01 there)
  TORCH_ARG(std::string, schedule) = "constant";  // constant | step | exponential | cosine | linear | onecycle
  TORCH_ARG(double, gamma) = 0.1;              // step: factor every step_size; exponential: factor per decay_steps
  TORCH_ARG(int64_t, step_size) = 1000;
  TORCH_ARG(int64_t, decay_steps) = 1000;
  TORCH_ARG(double, min_lr) = 0.0;             // cosine/linear/onecycle floor
  TORCH_ARG(double, warmup_fraction) = 0.3;    // onecycle: fraction of the phase spent rising
  TORCH_ARG(double, clip_grad_norm) = 0.0;     // 0: no clipping
  TORCH_ARG(int64_t, history_size) = 50;       // lbfgs
  TORCH_ARG(int64_t, iterations_per_call) = 20;  // lbfgs iterations between progress reports
  // lbfgs: when a call of iterations_per_call iterations ends with the loss it started from (a line search that
  // finds no decrease leaves LibTorch's L-BFGS repeating the same direction forever), its curvature history is
  // cleared and it starts again from a steepest-descent step.
  TORCH_ARG(bool, restart_on_stall) = true;
  // lbfgs: clear the history every N iterations as well (0: never). A control for experiments, not a speed-up:
  // every 200 iterations it left a Poisson run 18x less accurate after 11000 iterations (docs/benchmarks.md).
  TORCH_ARG(int64_t, restart_every) = 0;
  // float32 | float64; empty: the run's precision. The trainer refuses a phase whose precision is not the model's:
  // switching needs the caller to convert the model and its data (physis solve does, resuming from the checkpoint).
  TORCH_ARG(std::string, dtype) = "";


 public:
  // The learning rate before scheduling: lr, or the optimizer's default.
  double base_lr() const;
  // Learning rate at `step` steps into the phase.
  double lr_at(int64_t step) const;
  static PhaseOptions from_config(const config::Section& section);
};

struct TrainerOptions {
  TORCH_ARG(std::vector<PhaseOptions>, phases) = {PhaseOptions()};
  TORCH_ARG(std::string, output_dir) = "";  // empty: no checkpoint or history files
  TORCH_ARG(int64_t, log_every) = 100;
  TORCH_ARG(int64_t, eval_every) = 1000;    // evaluator calls; also at the end
  TORCH_ARG(int64_t, checkpoint_every) = 1000;
  TORCH_ARG(std::string, progress) = "auto";  // auto | bar | lines | none
  TORCH_ARG(std::string, label) = "train";


 public:
  int64_t total_steps() const;
  // output_dir/checkpoint.pt (empty without an output folder).
  std::filesystem::path checkpoint_path() const;
  std::filesystem::path history_path() const;  // output_dir/history.csv; empty without an output folder
  // Reads a `training:`-style section: phases (list) or a single phase's keys, plus the logging keys.
  static TrainerOptions from_config(const config::Section& section);
  // Where the precision changes: [(end step, dtype)] for each run of phases with one precision, phases without a
  // dtype taking `run_dtype`.
  std::vector<std::pair<int64_t, std::string>> precision_segments(const std::string& run_dtype) const;
};

// Raised when a loss or parameter becomes NaN/Inf; says where the last good checkpoint is.
class TrainingDiverged : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// A training method that changes what the trainer optimises (adaptive sampling, curricula, loss balancing)
// plugs in here rather than into the trainer's loop.
class TrainingHook {
 public:
  virtual ~TrainingHook() = default;
  virtual void before_step(int64_t step) {}
  virtual void after_step(int64_t step, const LossTerms& terms) {}
  // Extra state that must survive checkpoint/resume.
  virtual void save(torch::serialize::OutputArchive& archive) const {}
  virtual void load(torch::serialize::InputArchive& archive) {}
};

struct TrainResult {
  int64_t start = 0;  // the step this run started from (a resumed run's checkpoint step)
  int64_t steps = 0;  // the step it reached
  double loss = 0.0;
  Metrics metrics;
  double seconds = 0.0;
};

class Trainer {
 public:
  Trainer(std::shared_ptr<torch::nn::Module> model, LossFunction loss, TrainerOptions options);
  ~Trainer();

  void set_evaluator(std::function<Metrics()> evaluator) { evaluator_ = std::move(evaluator); }
  void add_hook(std::shared_ptr<TrainingHook> hook) { hooks_.push_back(std::move(hook)); }

  // Trains from the current step to the end of the last phase (or `until`, when given and smaller).
  TrainResult run(int64_t until = -1);

  void save_checkpoint(const std::filesystem::path& path);
  void load_checkpoint(const std::filesystem::path& path);
  // Loads output_dir/checkpoint.pt when it exists; returns whether it did.
  bool resume();
  // The step a checkpoint file was written at.
  static int64_t checkpoint_step(const std::filesystem::path& path);

  int64_t step() const { return step_; }
  // L-BFGS restarts after stalls (restart_on_stall) since this trainer was made.
  int64_t lbfgs_restarts() const { return lbfgs_restarts_; }
  // L-BFGS restarts by restart_every since this trainer was made.
  int64_t lbfgs_scheduled_restarts() const { return lbfgs_scheduled_restarts_; }
  const TrainerOptions& options() const { return options_; }
  std::filesystem::path checkpoint_path() const;
  std::filesystem::path history_path() const;

 private:
  int64_t phase_index(int64_t step) const;
  int64_t phase_start(int64_t phase) const;
  void ensure_phase(int64_t phase);
  double compute_step(int64_t phase, int64_t local_step, LossTerms& terms);
  // restart_on_stall: `loss` is where this L-BFGS call started; the optimizer is renewed when it equals where the
  // last call started, to 16 units in the last place (a rise is no stall).
  void restart_lbfgs_if_stalled(int64_t phase, double loss);
  // Drops the optimizer's state and makes it afresh for `phase`.
  void renew_optimizer(int64_t phase);
  void check_finite(const LossTerms& terms, double loss);
  bool parameters_finite() const;
  void write_history(int64_t phase, double lr, double loss, const LossTerms& terms, Metrics metrics);

  std::shared_ptr<torch::nn::Module> model_;
  LossFunction loss_;
  TrainerOptions options_;
  std::function<Metrics()> evaluator_;
  std::vector<std::shared_ptr<TrainingHook>> hooks_;
  std::unique_ptr<torch::optim::Optimizer> optimizer_;
  int64_t optimizer_phase_ = -1;
  double lbfgs_call_loss_ = NAN;  // the loss the last L-BFGS call started from (restart_on_stall)
  int64_t lbfgs_restarts_ = 0;     // restarts after stalls, reported at the end of each run
  int64_t lbfgs_scheduled_restarts_ = 0;  // restarts by restart_every
  int64_t step_ = 0;
  double elapsed_ = 0.0;  // seconds trained, carried across resumes
  std::vector<std::string> history_columns_;
  std::unique_ptr<CsvWriter> history_;
};

}  // namespace physis
