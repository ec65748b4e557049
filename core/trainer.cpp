#include "core/trainer.h"

#include "core/checkpoint.h"
#include "core/config.h"
#include "core/csv.h"
#include "core/runtime.h"

#include <ATen/Context.h>
#include <torch/nn/utils/clip_grad.h>
#include <torch/optim/adam.h>
#include <torch/optim/adamw.h>
#include <torch/optim/lbfgs.h>
#include <torch/serialize.h>

#include <chrono>
#include <cmath>
#include <iostream>
#include <limits>
#include <numbers>
#include <sstream>

namespace physis {

// ---------------------------------------------------------------------------------------------------------------
// Options

double PhaseOptions::base_lr() const {
  if (lr() > 0) return lr();
  return optimizer() == "lbfgs" ? 1.0 : 1e-3;
}

double PhaseOptions::lr_at(int64_t step) const {
  const double base = base_lr();
  const double t = steps() > 0 ? std::clamp(static_cast<double>(step) / static_cast<double>(steps()), 0.0, 1.0) : 0.0;
  if (schedule() == "constant") return base;
  if (schedule() == "step") return base * std::pow(gamma(), static_cast<double>(step / std::max<int64_t>(1, step_size())));
  if (schedule() == "exponential")
    return base * std::pow(gamma(), static_cast<double>(step) / static_cast<double>(std::max<int64_t>(1, decay_steps())));
  if (schedule() == "cosine") return min_lr() + 0.5 * (base - min_lr()) * (1 + std::cos(std::numbers::pi * t));
  if (schedule() == "linear") return base + (min_lr() - base) * t;
  if (schedule() == "onecycle") {
    // Cosine warm-up from base/25 to base, then cosine annealing to min_lr (as torch's OneCycleLR).
    const double w = std::clamp(warmup_fraction(), 1e-6, 1.0);
    const double start = base / 25.0;
    if (t < w) return start + 0.5 * (base - start) * (1 - std::cos(std::numbers::pi * t / w));
    return min_lr() + 0.5 * (base - min_lr()) * (1 + std::cos(std::numbers::pi * (t - w) / std::max(1e-12, 1 - w)));
  }
  throw std::invalid_argument("unknown learning-rate schedule '" + schedule() +
                              "': expected constant, step, exponential, cosine, linear or onecycle");
}

PhaseOptions PhaseOptions::from_config(const config::Section& s) {
  PhaseOptions p;
  p.optimizer(s.get<std::string>("optimizer", p.optimizer()));
  if (p.optimizer() != "adam" && p.optimizer() != "adamw" && p.optimizer() != "lbfgs")
    s.fail_at("optimizer", "unknown optimizer '" + p.optimizer() + "': expected adam, adamw or lbfgs");
  if (p.optimizer() == "adamw") p.weight_decay(0.01);
  p.steps(s.get<int64_t>("steps", p.steps()));
  if (p.steps() < 0) s.fail_at("steps", "steps must be >= 0");
  if (s.has("lr")) {
    p.lr(s.get<double>("lr"));
    if (!(p.lr() > 0)) s.fail_at("lr", "lr must be positive");
  }
  p.weight_decay(s.get<double>("weight_decay", p.weight_decay()));
  p.schedule(s.get<std::string>("schedule", p.schedule()));
  p.gamma(s.get<double>("gamma", p.gamma()));
  p.step_size(s.get<int64_t>("step_size", p.step_size()));
  p.decay_steps(s.get<int64_t>("decay_steps", p.decay_steps()));
  p.min_lr(s.get<double>("min_lr", p.min_lr()));
  p.warmup_fraction(s.get<double>("warmup_fraction", p.warmup_fraction()));
  p.clip_grad_norm(s.get<double>("clip_grad_norm", p.clip_grad_norm()));
  p.history_size(s.get<int64_t>("history_size", p.history_size()));
  p.iterations_per_call(s.get<int64_t>("iterations_per_call", p.iterations_per_call()));
  p.restart_on_stall(s.get<bool>("restart_on_stall", p.restart_on_stall()));
  p.restart_every(s.get<int64_t>("restart_every", p.restart_every()));
  if (p.restart_every() < 0) s.fail_at("restart_every", "restart_every must be >= 0 (0: never)");
  p.dtype(s.get<std::string>("dtype", p.dtype()));
  if (!p.dtype().empty() && p.dtype() != "float32" && p.dtype() != "float64")
    s.fail_at("dtype", "unknown dtype '" + p.dtype() + "': expected float32 or float64");
  try {
    p.lr_at(0);
  } catch (const std::invalid_argument& e) {
    s.fail_at("schedule", e.what());
  }
  s.finish();
  return p;
}

int64_t TrainerOptions::total_steps() const {
  int64_t total = 0;
  for (const auto& p : phases()) total += p.steps();
  return total;
}

std::vector<std::pair<int64_t, std::string>> TrainerOptions::precision_segments(const std::string& run_dtype) const {
  std::vector<std::pair<int64_t, std::string>> segments;
  int64_t end = 0;
  for (const auto& p : phases()) {
    end += p.steps();
    const auto& dtype = p.dtype().empty() ? run_dtype : p.dtype();
    if (!segments.empty() && segments.back().second == dtype)
      segments.back().first = end;
    else
      segments.emplace_back(end, dtype);
  }
  return segments;
}

TrainerOptions TrainerOptions::from_config(const config::Section& s) {
  TrainerOptions t;
  if (s.has("phases")) {
    std::vector<PhaseOptions> phases;
    for (const auto& item : s.items("phases")) phases.push_back(PhaseOptions::from_config(item));
    if (phases.empty()) s.fail_at("phases", "phases must list at least one phase");
    t.phases(phases);
  }
  t.log_every(s.get<int64_t>("log_every", t.log_every()));
  t.eval_every(s.get<int64_t>("eval_every", t.eval_every()));
  t.checkpoint_every(s.get<int64_t>("checkpoint_every", t.checkpoint_every()));
  t.progress(s.get<std::string>("progress", t.progress()));
  try {
    parse_progress_mode(t.progress());
  } catch (const std::invalid_argument& e) {
    s.fail_at("progress", e.what());
  }
  if (t.log_every() <= 0) s.fail_at("log_every", "log_every must be positive");
  if (t.eval_every() <= 0) s.fail_at("eval_every", "eval_every must be positive");
  if (t.checkpoint_every() <= 0) s.fail_at("checkpoint_every", "checkpoint_every must be positive");
  return t;  // the caller owns the section and calls finish() after reading its own keys
}

// ---------------------------------------------------------------------------------------------------------------
// Trainer

Trainer::Trainer(std::shared_ptr<torch::nn::Module> model, LossFunction loss, TrainerOptions options)
    : model_(std::move(model)), loss_(std::move(loss)), options_(std::move(options)) {
  TORCH_CHECK(model_, "Trainer: no model");
  TORCH_CHECK(!options_.phases().empty(), "Trainer: no training phase");
}

Trainer::~Trainer() = default;

namespace {
std::filesystem::path in_folder(const std::string& folder, const char* name) {
  return folder.empty() ? std::filesystem::path() : std::filesystem::path(folder) / name;
}
}  // namespace

std::filesystem::path TrainerOptions::checkpoint_path() const { return in_folder(output_dir(), "checkpoint.pt"); }
std::filesystem::path TrainerOptions::history_path() const { return in_folder(output_dir(), "history.csv"); }

std::filesystem::path Trainer::checkpoint_path() const { return options_.checkpoint_path(); }
std::filesystem::path Trainer::history_path() const { return options_.history_path(); }

int64_t Trainer::phase_start(int64_t phase) const {
  int64_t start = 0;
  for (int64_t i = 0; i < phase; ++i) start += options_.phases()[i].steps();
  return start;
}

int64_t Trainer::phase_index(int64_t step) const {
  int64_t start = 0;
  const auto& phases = options_.phases();
  for (std::size_t i = 0; i < phases.size(); ++i) {
    if (step < start + phases[i].steps()) return static_cast<int64_t>(i);
    start += phases[i].steps();
  }
  return static_cast<int64_t>(phases.size()) - 1;
}

void Trainer::ensure_phase(int64_t phase) {
  if (optimizer_ && optimizer_phase_ == phase) return;
  const auto& p = options_.phases()[phase];
  auto params = model_->parameters();
  if (!p.dtype().empty() && !params.empty() && params.front().scalar_type() != parse_dtype(p.dtype()))
    throw std::runtime_error("training phase " + std::to_string(phase + 1) + " asks for " + p.dtype() +
                             " but the model is " + dtype_name(params.front().scalar_type()) +
                             ": this command cannot change precision between phases; remove the phase's `dtype`");
  if (p.optimizer() == "adam") {
    optimizer_ = std::make_unique<torch::optim::Adam>(params, torch::optim::AdamOptions(p.base_lr()).weight_decay(p.weight_decay()));
  } else if (p.optimizer() == "adamw") {
    optimizer_ = std::make_unique<torch::optim::AdamW>(params, torch::optim::AdamWOptions(p.base_lr()).weight_decay(p.weight_decay()));
  } else if (p.optimizer() == "lbfgs") {
    optimizer_ = std::make_unique<torch::optim::LBFGS>(params, torch::optim::LBFGSOptions(p.base_lr())
                                                                   .max_iter(p.iterations_per_call())
                                                                   .history_size(p.history_size())
                                                                   .tolerance_grad(1e-12)
                                                                   .tolerance_change(1e-15)
                                                                   .line_search_fn("strong_wolfe"));
  } else {
    throw std::invalid_argument("unknown optimizer '" + p.optimizer() + "': expected adam, adamw or lbfgs");
  }
  optimizer_phase_ = phase;
  lbfgs_call_loss_ = NAN;
}

void Trainer::renew_optimizer(int64_t phase) {
  optimizer_.reset();
  ensure_phase(phase);  // a fresh optimizer; for L-BFGS an empty history, the next call a steepest-descent step
}

void Trainer::restart_lbfgs_if_stalled(int64_t phase, double loss) {
  const double previous = lbfgs_call_loss_;
  lbfgs_call_loss_ = loss;
  if (!options_.phases()[phase].restart_on_stall() || !std::isfinite(previous) || !std::isfinite(loss)) return;
  // The loss at the start of this call against the start of the last one: a change of a few units in the last
  // place of the model's precision is no progress. A rise is not a stall: an adaptive method changed the objective
  // (a curriculum's new weights), and the history still carries useful curvature.
  const auto params = model_->parameters();
  const bool single = !params.empty() && params.front().scalar_type() != torch::kFloat64;
  const double eps = single ? std::numeric_limits<float>::epsilon() : std::numeric_limits<double>::epsilon();
  if (std::abs(previous - loss) > 16 * eps * std::abs(previous)) return;
  renew_optimizer(phase);
  ++lbfgs_restarts_;
}

void Trainer::check_finite(const LossTerms& terms, double loss) {
  if (std::isfinite(loss)) return;
  std::ostringstream msg;
  msg << "training diverged: the loss is " << loss << " at step " << step_;
  for (const auto& [name, value] : terms)
    if (!std::isfinite(value.item<double>())) msg << " (term '" << name << "' is " << value.item<double>() << ")";
  msg << ". ";
  const auto ckpt = checkpoint_path();
  if (!ckpt.empty() && std::filesystem::exists(ckpt))
    msg << "The last good checkpoint is kept at '" << ckpt.string() << "'. ";
  msg << "Try a lower learning rate, gradient clipping (clip_grad_norm), float64, or check the problem's data.";
  throw TrainingDiverged(msg.str());
}

bool Trainer::parameters_finite() const {
  for (const auto& p : model_->parameters())
    if (!torch::isfinite(p).all().item<bool>()) return false;
  return true;
}

double Trainer::compute_step(int64_t phase, int64_t local_step, LossTerms& terms) {
  const auto& p = options_.phases()[phase];
  const double lr = p.lr_at(local_step);
  for (auto& group : optimizer_->param_groups()) group.options().set_lr(lr);

  // L-BFGS evaluates the closure several times per call (line search) and reports the first loss: `terms` keeps
  // that evaluation's terms too, so the reported loss is their sum.
  bool first = true;
  auto closure = [&]() -> torch::Tensor {
    optimizer_->zero_grad();
    auto evaluated = loss_(step_);
    TORCH_CHECK(!evaluated.empty(), "the loss function returned no terms");
    torch::Tensor total = evaluated.front().second;
    for (std::size_t i = 1; i < evaluated.size(); ++i) total = total + evaluated[i].second;
    if (first) terms = std::move(evaluated);
    first = false;
    total.backward();
    if (p.clip_grad_norm() > 0) torch::nn::utils::clip_grad_norm_(model_->parameters(), p.clip_grad_norm());
    return total;
  };

  if (p.optimizer() == "lbfgs") {
    // The calls start at local steps 0, k, 2k, ... (k = iterations_per_call): restart when one crosses a multiple
    // of restart_every. Stateless, so that a resumed run restarts where an uninterrupted one does.
    const int64_t every = p.restart_every(), k = p.iterations_per_call();
    if (every > 0 && local_step > 0 && local_step / every != (local_step - k) / every) {
      renew_optimizer(phase);
      ++lbfgs_scheduled_restarts_;
    }
    const double loss = optimizer_->step(closure).item<double>();
    restart_lbfgs_if_stalled(phase, loss);
    return loss;
  }
  auto loss = closure();
  const double value = loss.item<double>();
  check_finite(terms, value);  // before the update, so the parameters stay those of the last good step
  optimizer_->step();
  return value;
}

void Trainer::write_history(int64_t phase, double lr, double loss, const LossTerms& terms, Metrics metrics) {
  if (options_.output_dir().empty()) return;
  if (!history_) {
    // The metric columns are known once the evaluator has run: run it now if this row has none, and log them.
    if (evaluator_ && metrics.empty()) {
      torch::NoGradGuard no_grad;
      metrics = evaluator_();
    }
    std::vector<std::string> header{"step", "phase", "lr", "loss"};
    for (const auto& [name, value] : terms) header.push_back("loss_" + name);
    for (const auto& [name, value] : metrics) header.push_back(name);
    header.push_back("elapsed_s");
    history_columns_ = header;
    history_ = std::make_unique<CsvWriter>(history_path(), header);
  }
  std::vector<std::string> row{std::to_string(step_), std::to_string(phase), format_number(lr), format_number(loss)};
  for (const auto& [name, value] : terms) row.push_back(format_number(value.item<double>()));
  // Metric columns stay empty on rows where the evaluator did not run.
  const std::size_t metric_columns = history_columns_.size() - row.size() - 1;
  for (std::size_t i = 0; i < metric_columns; ++i)
    row.push_back(i < metrics.size() ? format_number(metrics[i].second) : std::string());
  row.push_back(format_number(elapsed_));
  history_->write_row(row);
}

TrainResult Trainer::run(int64_t until) {
  const int64_t total = options_.total_steps();
  const int64_t end = until >= 0 ? std::min(until, total) : total;
  TrainResult result;
  result.start = step_;
  ProgressBar bar(options_.label(), total, step_, parse_progress_mode(options_.progress()), options_.log_every());
  const auto t0 = std::chrono::steady_clock::now();
  const double elapsed_before = elapsed_;
  const int64_t restarts_before = lbfgs_restarts_, scheduled_before = lbfgs_scheduled_restarts_;
  double loss = NAN;
  LossTerms terms;
  Metrics metrics;

  auto stats_text = [&]() {
    std::ostringstream s;
    s.precision(3);
    s << std::scientific;
    if (!std::isnan(loss)) s << "loss " << loss;
    if (terms.size() > 1) {
      s << " (";
      for (std::size_t i = 0; i < terms.size(); ++i) s << (i ? " " : "") << terms[i].first << " " << terms[i].second.item<double>();
      s << ")";
    }
    for (const auto& [name, value] : metrics) s << (s.tellp() > 0 ? " " : "") << name << " " << value;
    return s.str();
  };

  if (step_ >= end && evaluator_) {
    // Nothing left to train (a finished run resumed, e.g. to evaluate it against another reference): the
    // metrics still describe the network as it stands.
    torch::NoGradGuard no_grad;
    metrics = evaluator_();
    result.metrics = metrics;
  }
  while (step_ < end) {
    const int64_t phase = phase_index(step_);
    ensure_phase(phase);
    const auto& p = options_.phases()[phase];
    const int64_t local = step_ - phase_start(phase);
    for (auto& hook : hooks_) hook->before_step(step_);
    loss = compute_step(phase, local, terms);
    const int64_t advance = p.optimizer() == "lbfgs" ? std::min<int64_t>(p.iterations_per_call(), end - step_) : 1;
    if (p.optimizer() == "lbfgs") {
      check_finite(terms, loss);
      if (!parameters_finite()) check_finite(terms, NAN);
    }
    for (auto& hook : hooks_) hook->after_step(step_, terms);
    const int64_t before = step_;
    step_ += advance;
    elapsed_ = elapsed_before + std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();

    const bool last = step_ == end;
    const bool eval_now = evaluator_ && (last || step_ / options_.eval_every() != before / options_.eval_every());
    metrics.clear();
    if (eval_now) {
      torch::NoGradGuard no_grad;
      metrics = evaluator_();
      result.metrics = metrics;
    }
    if (last || step_ / options_.log_every() != before / options_.log_every() || eval_now)
      write_history(phase, p.lr_at(local), loss, terms, metrics);
    if (!options_.output_dir().empty() &&
        (last || step_ / options_.checkpoint_every() != before / options_.checkpoint_every())) {
      if (parameters_finite()) save_checkpoint(checkpoint_path());
    }
    bar.update(step_, stats_text());
  }
  bar.finish(stats_text(), step_);
  if (lbfgs_restarts_ > restarts_before)
    std::cout << "L-BFGS restarted " << lbfgs_restarts_ - restarts_before << " time(s) after calls that did not lower the loss "
              << "(restart_on_stall)" << std::endl;
  if (lbfgs_scheduled_restarts_ > scheduled_before)
    std::cout << "L-BFGS restarted " << lbfgs_scheduled_restarts_ - scheduled_before << " time(s) on schedule (restart_every)"
              << std::endl;
  result.steps = step_;
  result.loss = loss;
  result.seconds = elapsed_ - elapsed_before;
  return result;
}

void Trainer::save_checkpoint(const std::filesystem::path& path) {
  torch::serialize::OutputArchive archive;
  torch::serialize::OutputArchive model_archive;
  model_->save(model_archive);
  archive.write("model", model_archive);
  if (const auto params = model_->parameters(); !params.empty())
    archive.write("dtype", torch::tensor(static_cast<int64_t>(params.front().scalar_type()), torch::kInt64));
  if (optimizer_) {
    // LibTorch's L-BFGS keeps a scratch list `al` with unset entries, which its own serializer cannot write;
    // the entries are overwritten before every use, so empty tensors stand in for them.
    for (auto& [key, state] : optimizer_->state())
      if (auto* lbfgs = dynamic_cast<torch::optim::LBFGSParamState*>(state.get()); lbfgs && lbfgs->al()) {
        auto al = *lbfgs->al();
        for (auto& t : al)
          if (!t.defined()) t = torch::empty({0});
        lbfgs->al(al);
      }
    torch::serialize::OutputArchive optimizer_archive;
    optimizer_->save(optimizer_archive);
    archive.write("optimizer", optimizer_archive);
  }
  archive.write("optimizer_phase", torch::tensor(optimizer_phase_, torch::kInt64));
  archive.write("lbfgs_call_loss", torch::tensor(lbfgs_call_loss_, torch::kFloat64));
  archive.write("step", torch::tensor(step_, torch::kInt64));
  archive.write("elapsed", torch::tensor(elapsed_, torch::kFloat64));
  {
    auto gen = at::globalContext().defaultGenerator(torch::kCPU);
    std::lock_guard<std::mutex> lock(gen.mutex());
    archive.write("rng_cpu", gen.get_state());
  }
  for (std::size_t i = 0; i < hooks_.size(); ++i) {
    torch::serialize::OutputArchive hook_archive;
    hooks_[i]->save(hook_archive);
    archive.write("hook" + std::to_string(i), hook_archive);
  }
  atomic_write(path, [&](std::ostream& out) { archive.save_to(out); });
}

namespace {
void open_checkpoint(const std::filesystem::path& path, torch::serialize::InputArchive& archive) {
  try {
    archive.load_from(path.string());
  } catch (const c10::Error& e) {
    throw std::runtime_error("checkpoint '" + path.string() + "' is not a readable physis checkpoint (" +
                             std::string(e.what_without_backtrace()) + "); delete it to start over");
  }
}
}  // namespace

void Trainer::load_checkpoint(const std::filesystem::path& path) {
  if (!std::filesystem::exists(path))
    throw std::runtime_error("checkpoint '" + path.string() + "' does not exist");
  torch::serialize::InputArchive archive;
  open_checkpoint(path, archive);
  // Each read gets a fresh tensor: reading into a defined tensor of another dtype fails in LibTorch.
  auto read_scalar = [&](const char* key) {
    torch::Tensor t;
    archive.read(key, t);
    return t;
  };
  step_ = read_scalar("step").item<int64_t>();
  elapsed_ = read_scalar("elapsed").item<double>();
  torch::serialize::InputArchive model_archive;
  archive.read("model", model_archive);
  // A checkpoint written in another precision is read in that precision and converted (e.g. an Adam run in
  // float32 continued by L-BFGS in float64); the optimizer's and the adaptive methods' state is not carried over.
  // Checkpoints from before the dtype was recorded are tried in this run's precision, then in the other one.
  const auto params = model_->parameters();
  const auto run_dtype = params.empty() ? torch::kFloat32 : params.front().scalar_type();
  std::vector<c10::ScalarType> candidates{run_dtype};
  if (torch::Tensor stored_dtype; archive.try_read("dtype", stored_dtype) && !params.empty())
    candidates = {static_cast<c10::ScalarType>(stored_dtype.item<int64_t>())};
  else if (run_dtype == torch::kFloat32 || run_dtype == torch::kFloat64)
    candidates.push_back(run_dtype == torch::kFloat32 ? torch::kFloat64 : torch::kFloat32);
  auto stored = run_dtype;
  for (std::size_t i = 0; i < candidates.size(); ++i) {
    stored = candidates[i];
    model_->to(stored);
    try {
      model_->load(model_archive);
      break;
    } catch (const c10::Error& e) {
      model_->to(run_dtype);
      if (i + 1 < candidates.size()) continue;
      throw std::runtime_error("checkpoint '" + path.string() + "' does not fit this network (" +
                               std::string(e.what_without_backtrace()) +
                               "): resume with the network it was written with, or start in a new folder");
    }
  }
  const bool convert = stored != run_dtype;
  if (convert) {
    model_->to(run_dtype);
    std::cout << "checkpoint '" << path.string() << "' holds a " << c10::toString(stored)
              << " network: converted to " << c10::toString(run_dtype)
              << "; the optimizer and any adaptive sampling start afresh" << std::endl;
  }
  const int64_t phase = read_scalar("optimizer_phase").item<int64_t>();
  optimizer_.reset();
  if (!convert && phase >= 0 && phase < static_cast<int64_t>(options_.phases().size()) &&
      phase == phase_index(std::min(step_, std::max<int64_t>(0, options_.total_steps() - 1)))) {
    ensure_phase(phase);
    torch::serialize::InputArchive optimizer_archive;
    archive.read("optimizer", optimizer_archive);
    optimizer_->load(optimizer_archive);
    if (torch::Tensor t; archive.try_read("lbfgs_call_loss", t)) lbfgs_call_loss_ = t.item<double>();
  }
  auto rng_state = read_scalar("rng_cpu");
  {
    auto gen = at::globalContext().defaultGenerator(torch::kCPU);
    std::lock_guard<std::mutex> lock(gen.mutex());
    gen.set_state(rng_state);
  }
  for (std::size_t i = 0; i < hooks_.size() && !convert; ++i) {
    torch::serialize::InputArchive hook_archive;
    if (archive.try_read("hook" + std::to_string(i), hook_archive)) hooks_[i]->load(hook_archive);
  }
  history_.reset();
  if (!options_.output_dir().empty()) truncate_csv_after(history_path(), step_);
}

int64_t Trainer::checkpoint_step(const std::filesystem::path& path) {
  torch::serialize::InputArchive archive;
  open_checkpoint(path, archive);
  torch::Tensor step;
  archive.read("step", step);
  return step.item<int64_t>();
}

bool Trainer::resume() {
  const auto path = checkpoint_path();
  if (path.empty() || !std::filesystem::exists(path)) return false;
  load_checkpoint(path);
  return true;
}

}  // namespace physis
