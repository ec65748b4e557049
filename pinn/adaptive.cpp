#include "pinn/adaptive.h"

#include "core/csv.h"
#include "core/strings.h"
#include "pinn/aas.h"
#include "pinn/causal.h"
#include "pinn/gmm_curriculum.h"
#include "pinn/loss_balancing.h"
#include "pinn/residual_sampling.h"
#include "pinn/solver.h"

#include <functional>
#include <map>

namespace physis::pinn {
namespace {

// One entry per method: builds it from its section (reading every key, so that check_adaptive_method can run the
// same code at load time with a null solver) and binds it to a solver. `weighs_points`: the method keeps a weight
// per point of a fixed collocation set, which a periodic redraw would leave on other points. `needs_time`: the
// method orders the points in time, so the problem must be transient.
using Factory = std::function<std::shared_ptr<AdaptiveMethod>(const config::Section&, Solver*)>;
struct Entry {
  Factory make;
  bool weighs_points = false;
  bool needs_time = false;
};

const std::map<std::string, Entry>& factories() {
  static const std::map<std::string, Entry> table{
      {"gmm", {make_gmm_curriculum, true}},
      {"rar", {make_residual_refinement}},
      {"rad", {make_residual_distribution}},
      {"lr_annealing", {make_lr_annealing}},
      {"self_adaptive", {make_self_adaptive_weights, true}},
      {"relobralo", {make_relobralo}},
      {"aas", {make_adversarial_sampling}},
      {"causal", {make_causal_weights, true, true}},
  };
  return table;
}

const Entry& entry(const config::Section& item) {
  const auto method = item.get<std::string>("method");
  const auto& table = factories();
  auto it = table.find(method);
  if (it == table.end())
    item.fail_at("method", "unknown adaptive method '" + method + "'; known: " + join(adaptive_method_names(), ", "));
  return it->second;
}

std::shared_ptr<AdaptiveMethod> build(const config::Section& item, Solver* solver) {
  return entry(item).make(item, solver);
}

}  // namespace

std::vector<std::string> adaptive_method_names() {
  std::vector<std::string> names;
  for (const auto& [name, factory] : factories()) names.push_back(name);
  return names;
}

void check_adaptive_method(const config::Section& item, bool redrawn_points, bool transient) {
  const auto& method = entry(item);
  method.make(item, nullptr);
  if (method.needs_time && !transient)
    item.fail("`" + item.get<std::string>("method") + "` weighs the points by their time; it needs a transient " +
              "problem (a `time:` interval)");
  if (redrawn_points && method.weighs_points)
    item.fail("`" + item.get<std::string>("method") + "` weighs each point of a fixed collocation set; it cannot " +
              "be combined with `resample_every` (remove that key or set it to 0)");
}

std::vector<std::shared_ptr<AdaptiveMethod>> make_adaptive_methods(const std::vector<config::Section>& items,
                                                                   Solver& solver, int64_t total_steps) {
  std::vector<std::shared_ptr<AdaptiveMethod>> methods;
  for (const auto& item : items) {
    methods.push_back(build(item, &solver));
    methods.back()->set_total_steps(total_steps > 0 ? total_steps : solver.problem().trainer.total_steps());
  }
  return methods;
}

void write_value(torch::serialize::OutputArchive& archive, const std::string& key, double value) {
  archive.write(key, torch::tensor(value, torch::kFloat64));
}

double read_value(torch::serialize::InputArchive& archive, const std::string& key) {
  torch::Tensor value;
  archive.read(key, value);
  return value.item<double>();
}

void write_interior(torch::serialize::OutputArchive& archive, const Solver& solver) {
  archive.write("interior", solver.interior());
  if (solver.interior_weights().defined()) archive.write("interior_weights", solver.interior_weights());
}

void read_interior(torch::serialize::InputArchive& archive, Solver& solver) {
  torch::Tensor points, weights;
  archive.read("interior", points);
  archive.try_read("interior_weights", weights);
  solver.set_interior(points, weights);
}

int64_t read_count(const config::Section& item, const std::string& key, int64_t fallback, int64_t min) {
  const auto value = item.get<int64_t>(key, fallback);
  if (value < min) item.fail_at(key, "'" + key + "' must be at least " + std::to_string(min));
  return value;
}

double read_number(const config::Section& item, const std::string& key, double fallback, double min, double max) {
  const auto value = item.get<double>(key, fallback);
  if (!(value >= min && value <= max))
    item.fail_at(key, "'" + key + "' must lie in [" + format_number(min) + ", " + format_number(max) + "]");
  return value;
}

}  // namespace physis::pinn
