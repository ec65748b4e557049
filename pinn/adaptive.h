// Training methods that adapt what a PINN trains on: where its collocation points are (RAR, RAD, adversarial
// sampling), how much each point weighs (a residual curriculum), how the loss terms are balanced. Each is a core
// TrainingHook (before_step / after_step, state saved in checkpoints) working on the solver through its adaptive
// interface (Solver::interior, set_interior, residuals, set_term_scale, ...), so the trainer's loop knows nothing of
// them and every method works with every problem.
//
//   training:
//     adaptive:
//       - {method: rad, every: 2000, candidates: 100000, k: 1, c: 1}
//       - {method: relobralo}
#pragma once

#include "core/config.h"
#include "core/trainer.h"

#include <torch/serialize/archive.h>

#include <memory>
#include <string>
#include <vector>

namespace physis::pinn {

class Solver;

class AdaptiveMethod : public TrainingHook {
 public:
  explicit AdaptiveMethod(Solver& solver) : solver_(solver) {}
  virtual std::string name() const = 0;
  // The length of the whole training run (all phases), for methods whose schedule depends on it.
  void set_total_steps(int64_t steps) { total_steps_ = steps; }
  // What the method reports beside the solver's metrics at each evaluation (progress lines, history.csv); the
  // same names every time.
  virtual Metrics metrics() const { return {}; }

 protected:
  Solver& solver_;
  int64_t total_steps_ = 0;
};

// "Once every `every` steps", robust to L-BFGS phases, whose hooks see the step advance several at a time: due()
// holds at the first step at least `every` past the last time it held (never at step 0).
struct StepInterval {
  int64_t every = 1;
  int64_t last = 0;
  bool due(int64_t step) {
    if (step < last + every) return false;
    last = step;
    return true;
  }
};

// Scalars in a hook's checkpoint archive.
void write_value(torch::serialize::OutputArchive& archive, const std::string& key, double value);
double read_value(torch::serialize::InputArchive& archive, const std::string& key);
// The solver's interior points and point weights (if set), for methods that replace them.
void write_interior(torch::serialize::OutputArchive& archive, const Solver& solver);
void read_interior(torch::serialize::InputArchive& archive, Solver& solver);

// A method's key with its default, checked against a range (mistakes name the key's line).
int64_t read_count(const config::Section& item, const std::string& key, int64_t fallback, int64_t min = 1);
double read_number(const config::Section& item, const std::string& key, double fallback, double min, double max);

// Checks one `training.adaptive` item (method name and keys); mistakes name file and line.
// redrawn_points: the problem redraws its points periodically (`resample_every`), which methods that weigh each
// point of a fixed set cannot follow; transient: the problem has a time interval, which methods that order the
// points in time need.
void check_adaptive_method(const config::Section& item, bool redrawn_points = false, bool transient = true);
// The methods of a problem's `training.adaptive` list, in order, bound to the solver. total_steps: the length of the
// training run (0: the problem's own phases).
std::vector<std::shared_ptr<AdaptiveMethod>> make_adaptive_methods(const std::vector<config::Section>& items,
                                                                   Solver& solver, int64_t total_steps = 0);
// Names of the methods `method:` accepts.
std::vector<std::string> adaptive_method_names();

}  // namespace physis::pinn
