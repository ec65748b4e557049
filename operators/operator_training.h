// Training an operator surrogate through the shared trainer: shuffled mini-batches, relative-L2 or MSE loss,
// test metrics every few epochs, checkpoints and exact resume.
//
//   auto opts = OperatorTrainingOptions::from_config(config.child("training"));
//   OperatorTraining run(surrogate, train, test, opts, runtime, "results/darcy");
//   run.trainer().run();
//   auto metrics = run.evaluate(test);      // mean relative L2, MSE, per output channel
#pragma once

#include "core/runtime.h"
#include "core/trainer.h"
#include "operators/surrogate.h"

#include <memory>
#include <string>

namespace physis::config {
class Section;
}

namespace physis::ops {

enum class OperatorLoss { relative_l2, mse };

struct OperatorTrainingOptions {
  TORCH_ARG(int64_t, epochs) = 100;
  TORCH_ARG(int64_t, batch_size) = 20;
  TORCH_ARG(OperatorLoss, loss) = OperatorLoss::relative_l2;  // relative_l2: physical units; mse: normalised units
  TORCH_ARG(int64_t, eval_every) = 10;        // epochs
  TORCH_ARG(int64_t, checkpoint_every) = 10;  // epochs
  TORCH_ARG(std::string, progress) = "auto";
  TORCH_ARG(uint64_t, seed) = 0;              // shuffling order
  // Parts of the model kept fixed (transfer learning), by parameter-name prefix: "branch_cnn", "trunk", ...
  TORCH_ARG(std::vector<std::string>, freeze) = {};
  // Models with a time history (the hybrid): loss = field loss + history_weight * history loss, both of the kind
  // `loss` says (relative L2 per sample over times and quantities, or MSE in normalised units).
  TORCH_ARG(double, history_weight) = 1.0;
  // One optimizer phase; its step_size and decay_steps are counted in epochs here.
  TORCH_ARG(PhaseOptions, phase) = PhaseOptions().optimizer("adam").lr(1e-3).schedule("cosine");

 public:
  // A `training:` section: epochs, batch_size, loss, history_weight, eval_every, checkpoint_every, progress, freeze
  // and the phase keys
  // (optimizer, lr, schedule, gamma, step_size, decay_steps, min_lr, weight_decay, clip_grad_norm). Finishes it.
  static OperatorTrainingOptions from_config(const config::Section& section);
};

struct OperatorMetrics {
  double relative_l2 = 0;                  // mean over samples
  double mse = 0;                          // mean over counted points and channels, physical units
  std::vector<double> relative_l2_channel;  // mean over samples, per output
  bool has_history = false;                 // the model predicts a time history and the data carry one
  double history_relative_l2 = 0;           // mean over samples, over all times and quantities
};

class OperatorTraining {
 public:
  // Trains `surrogate` (normalisers already fitted) on `train`; `test` may be empty. output_dir empty: no files.
  OperatorTraining(std::shared_ptr<Surrogate> surrogate, Dataset train, Dataset test, OperatorTrainingOptions options,
                   Runtime runtime, std::string output_dir);

  Trainer& trainer() { return *trainer_; }
  int64_t batches_per_epoch() const { return batches_per_epoch_; }
  OperatorMetrics evaluate(const Dataset& data);

 private:
  LossTerms loss(int64_t step);

  std::shared_ptr<Surrogate> surrogate_;
  Dataset train_, test_;
  OperatorTrainingOptions options_;
  Runtime runtime_;
  Batch train_batch_;  // the whole training set on the device, indexed per step
  int64_t batches_per_epoch_ = 1;
  int64_t order_epoch_ = -1;
  std::vector<int64_t> order_;
  std::unique_ptr<Trainer> trainer_;
};

}  // namespace physis::ops
