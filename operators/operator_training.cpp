#include "operators/operator_training.h"

#include "core/config.h"
#include "core/strings.h"

#include <algorithm>
#include <numeric>
#include <random>
#include <set>

namespace physis::ops {
namespace {

Batch select(const Batch& all, const torch::Tensor& index) {
  auto pick = [&](const torch::Tensor& t) { return t.defined() ? t.index_select(0, index) : t; };
  return {pick(all.coords), pick(all.targets), pick(all.fields), pick(all.field_coords), pick(all.params),
          pick(all.mask),   pick(all.valid),   pick(all.times),  pick(all.history)};
}

// Mean of (a - b)^2 over the counted points (weights [B, N], or every point when undefined) and all channels.
torch::Tensor weighted_mean_square(const torch::Tensor& a, const torch::Tensor& b, const torch::Tensor& weights) {
  auto sq = (a - b).pow(2);  // [B, N, c]
  if (!weights.defined()) return sq.mean();
  return (sq * weights.unsqueeze(-1)).sum() / (weights.sum() * sq.size(2));
}

// A model with a time history trains on samples that all carry one, at the same number of times (batches stack the
// histories, and padding them would count zeros as data).
void check_histories(const Dataset& data) {
  const auto& first = data.samples.front();
  if (!first.history.defined())
    throw DatasetError(data.source + ": the model predicts a time history but the samples carry none");
  for (const auto& s : data.samples)
    if (s.times.size(0) != first.times.size(0))
      throw DatasetError(data.source + ": every sample needs the same number of times for a history model (" +
                         std::to_string(first.times.size(0)) + " and " + std::to_string(s.times.size(0)) + ")");
}

}  // namespace

OperatorTrainingOptions OperatorTrainingOptions::from_config(const config::Section& s) {
  OperatorTrainingOptions o;
  o.epochs(s.get<int64_t>("epochs", o.epochs()));
  o.batch_size(s.get<int64_t>("batch_size", o.batch_size()));
  const auto loss = s.get<std::string>("loss", "relative_l2");
  if (loss == "relative_l2") o.loss(OperatorLoss::relative_l2);
  else if (loss == "mse") o.loss(OperatorLoss::mse);
  else s.fail_at("loss", "unknown loss '" + loss + "': expected relative_l2 or mse");
  o.eval_every(s.get<int64_t>("eval_every", o.eval_every()));
  o.checkpoint_every(s.get<int64_t>("checkpoint_every", o.checkpoint_every()));
  o.progress(s.get<std::string>("progress", o.progress()));
  o.freeze(s.get<std::vector<std::string>>("freeze", {}));
  o.history_weight(s.get<double>("history_weight", o.history_weight()));
  if (o.history_weight() < 0) s.fail_at("history_weight", "history_weight must be >= 0");
  if (o.epochs() <= 0) s.fail_at("epochs", "epochs must be positive");
  if (o.batch_size() <= 0) s.fail_at("batch_size", "batch_size must be positive");
  if (o.eval_every() <= 0) s.fail_at("eval_every", "eval_every must be positive");
  if (o.checkpoint_every() <= 0) s.fail_at("checkpoint_every", "checkpoint_every must be positive");
  const bool has_lr = s.has("lr");
  // The remaining keys are one optimizer phase (PhaseOptions finishes the section).
  auto phase = PhaseOptions::from_config(s);
  if (!has_lr && phase.optimizer() != "lbfgs") phase.lr(1e-3);
  o.phase(phase);
  return o;
}

OperatorTraining::OperatorTraining(std::shared_ptr<Surrogate> surrogate, Dataset train, Dataset test,
                                   OperatorTrainingOptions options, Runtime runtime, std::string output_dir)
    : surrogate_(std::move(surrogate)),
      train_(std::move(train)),
      test_(std::move(test)),
      options_(std::move(options)),
      runtime_(runtime) {
  if (train_.empty()) throw DatasetError("no training samples");
  for (const auto& prefix : options_.freeze()) {
    bool found = false;
    std::set<std::string> parts;
    for (auto& p : surrogate_->named_parameters(true)) {
      const std::string& name = p.key();  // "model.<part>...."
      const auto local = name.rfind("model.", 0) == 0 ? name.substr(6) : name;
      parts.insert(local.substr(0, local.find('.')));
      if (local.rfind(prefix, 0) == 0) p.value().requires_grad_(false), found = true;
    }
    if (!found)
      throw std::invalid_argument("freeze: no parameters named '" + prefix + "...'; the model has " +
                                  join(std::vector<std::string>(parts.begin(), parts.end()), ", "));
  }
  if (surrogate_->predicts_history()) check_histories(train_);
  surrogate_->to(runtime_.device, runtime_.dtype);
  train_batch_ = train_.all().to(runtime_.device, runtime_.dtype);
  const int64_t batch = std::min(options_.batch_size(), train_.size());
  batches_per_epoch_ = (train_.size() + batch - 1) / batch;
  // Epoch-based settings become steps for the shared trainer.
  auto phase = options_.phase();
  phase.steps(options_.epochs() * batches_per_epoch_)
      .step_size(phase.step_size() * batches_per_epoch_)
      .decay_steps(phase.decay_steps() * batches_per_epoch_);
  TrainerOptions t;
  t.phases({phase})
      .output_dir(output_dir)
      .eval_every(options_.eval_every() * batches_per_epoch_)
      .checkpoint_every(options_.checkpoint_every() * batches_per_epoch_)
      .log_every(batches_per_epoch_)
      .progress(options_.progress())
      .label("train-operator");
  trainer_ = std::make_unique<Trainer>(surrogate_, [this](int64_t step) { return loss(step); }, t);
  trainer_->set_evaluator([this] {
    Metrics m;
    if (test_.empty()) return m;
    auto r = evaluate(test_);
    m.emplace_back("test_rel_l2", r.relative_l2);
    m.emplace_back("test_mse", r.mse);
    if (r.has_history) m.emplace_back("test_history_rel_l2", r.history_relative_l2);
    return m;
  });
}

LossTerms OperatorTraining::loss(int64_t step) {
  const int64_t epoch = step / batches_per_epoch_;
  const int64_t within = step % batches_per_epoch_;
  if (epoch != order_epoch_) {
    // The order depends on (seed, epoch) only, so a resumed run sees the same batches.
    order_.resize(static_cast<size_t>(train_.size()));
    std::iota(order_.begin(), order_.end(), 0);
    std::mt19937_64 rng(options_.seed() * 1000003ULL + static_cast<uint64_t>(epoch));
    std::shuffle(order_.begin(), order_.end(), rng);
    order_epoch_ = epoch;
  }
  const int64_t size = std::min(options_.batch_size(), train_.size());
  const int64_t start = within * size;
  const int64_t stop = std::min(start + size, train_.size());
  std::vector<int64_t> picked(order_.begin() + start, order_.begin() + stop);
  auto index = torch::tensor(picked, torch::TensorOptions().dtype(torch::kLong).device(runtime_.device));
  Batch batch = select(train_batch_, index);
  const auto out = surrogate_->forward_normalized_with_history(batch);
  const auto weights = batch.weights();
  const bool relative = options_.loss() == OperatorLoss::relative_l2;
  LossTerms terms;
  if (relative)
    terms.emplace_back("rel_l2",
                       relative_l2_per_sample(surrogate_->decode(out.field, batch), batch.targets, weights).mean());
  else
    // In normalised units, of the prediction as decoded (an output factor applies in physical units).
    terms.emplace_back("mse", weighted_mean_square(surrogate_->encode_targets(surrogate_->decode(out.field, batch)),
                                                   surrogate_->encode_targets(batch.targets), weights));
  if (out.history.defined()) {
    auto history = relative
                       ? relative_l2_per_sample(surrogate_->decode_history(out.history), batch.history, {}).mean()
                       : (out.history - surrogate_->encode_history(batch.history)).pow(2).mean();
    terms.emplace_back(relative ? "history_rel_l2" : "history_mse", options_.history_weight() * history);
  }
  return terms;
}

OperatorMetrics OperatorTraining::evaluate(const Dataset& data) {
  OperatorMetrics m;
  const auto predicted =
      surrogate_->predict_with_history(data, std::max<int64_t>(options_.batch_size(), 1), runtime_.device);
  const auto& prediction = predicted.field;
  const Batch truth = data.all();
  const auto weights = truth.weights();
  m.relative_l2 = relative_l2_per_sample(prediction, truth.targets, weights).mean().item<double>();
  m.mse = weighted_mean_square(prediction, truth.targets, weights).item<double>();
  auto per_channel = relative_l2_per_channel(prediction, truth.targets, weights).mean(0);
  for (int64_t c = 0; c < per_channel.size(0); ++c) m.relative_l2_channel.push_back(per_channel[c].item<double>());
  if (predicted.history.defined() && truth.history.defined()) {
    m.has_history = true;
    m.history_relative_l2 = relative_l2_per_sample(predicted.history, truth.history, {}).mean().item<double>();
  }
  return m;
}

}  // namespace physis::ops
