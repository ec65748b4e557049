#include "pinn/causal.h"

#include "pinn/solver.h"

#include <algorithm>
#include <cmath>

namespace physis::pinn {

torch::Tensor causal_chunk_weights(const torch::Tensor& chunk_losses, double epsilon) {
  TORCH_CHECK(chunk_losses.dim() == 1, "causal_chunk_weights: expected [M] but got ", chunk_losses.sizes());
  auto losses = torch::nan_to_num(chunk_losses.detach(), 0.0);  // empty chunks add nothing
  auto before = losses.cumsum(0) - losses;                       // [M] sum over j < k
  return torch::exp(-epsilon * before);
}

torch::Tensor causal_chunks(const torch::Tensor& t, double t0, double t1, int64_t chunks) {
  TORCH_CHECK(t.dim() == 1 && t1 > t0 && chunks >= 1, "causal_chunks: expected t [N], t1 > t0, chunks >= 1");
  auto position = (t.detach() - t0) * (static_cast<double>(chunks) / (t1 - t0));
  return position.floor().clamp(0, static_cast<double>(chunks - 1)).to(torch::kLong);
}

CausalWeights::CausalWeights(Solver& solver, CausalOptions options)
    : AdaptiveMethod(solver), options_(std::move(options)), interval_{options_.every()} {
  const auto& problem = solver_.problem();
  TORCH_CHECK(problem.transient(), "causal training needs a transient problem");
  t0_ = problem.space_time->t0();
  t1_ = problem.space_time->t1();
  time_column_ = problem.space_time->dim() - 1;  // time is the last input
}

void CausalWeights::before_step(int64_t step) {
  // Points placed by another method (rar, rad, aas) get their weights at once; the weights of earlier points
  // would not fit them.
  const bool new_points = !weighted_for_.is_same(solver_.interior());
  if (new_points || interval_.due(step)) update();
}

void CausalWeights::update() {
  torch::NoGradGuard no_grad;
  const auto& x = solver_.interior();  // [N, d]
  const int64_t n = x.size(0), m = options_.chunks();
  auto chunk = causal_chunks(x.select(1, time_column_), t0_, t1_, m);  // [N]
  auto r2 = solver_.residuals(x).square().sum(1);                      // [N]: equations summed
  auto counts = torch::zeros({m}, r2.options()).index_add_(0, chunk, torch::ones_like(r2));
  auto losses = torch::zeros({m}, r2.options()).index_add_(0, chunk, r2) / counts;  // [M], NaN where empty
  auto occupied = counts > 0;
  const double filled = static_cast<double>(occupied.sum().item<int64_t>());
  while (true) {
    chunk_weights_ = causal_chunk_weights(losses, epsilon());
    const bool settled = chunk_weights_.index({occupied}).min().item<double>() > options_.threshold();
    if (!settled || stage_ + 1 >= options_.epsilon().size()) break;
    ++stage_;  // causality holds at this epsilon: tighten it
  }
  // Point i in chunk k weighs w_k N / (M' N_k), M' the chunks with points, so that mean(w_i r_i^2) over the points
  // is (1 / M') sum_k w_k L_k.
  auto per_point = chunk_weights_ * (static_cast<double>(n) / filled) / counts.clamp_min(1);  // [M]
  solver_.set_interior_weights(per_point.index_select(0, chunk));
  weighted_for_ = x;
}

Metrics CausalWeights::metrics() const {
  const double smallest = chunk_weights_.defined() ? chunk_weights_.min().item<double>() : std::nan("");
  return {{"causal_epsilon", epsilon()}, {"causal_min_weight", smallest}};
}

void CausalWeights::save(torch::serialize::OutputArchive& archive) const {
  write_value(archive, "last", static_cast<double>(interval_.last));
  write_value(archive, "stage", static_cast<double>(stage_));
  if (chunk_weights_.defined()) {
    archive.write("chunk_weights", chunk_weights_);
    archive.write("weights", solver_.interior_weights());
  }
}

void CausalWeights::load(torch::serialize::InputArchive& archive) {
  interval_.last = static_cast<int64_t>(read_value(archive, "last"));
  stage_ = std::min(static_cast<size_t>(read_value(archive, "stage")), options_.epsilon().size() - 1);
  torch::Tensor chunk_weights, weights;
  if (archive.try_read("chunk_weights", chunk_weights) && archive.try_read("weights", weights)) {
    chunk_weights_ = chunk_weights;
    solver_.set_interior_weights(weights);
    weighted_for_ = solver_.interior();
  }
}

std::shared_ptr<AdaptiveMethod> make_causal_weights(const config::Section& item, Solver* solver) {
  auto options = CausalOptions()
                     .chunks(read_count(item, "chunks", 32))
                     .threshold(read_number(item, "threshold", 0.99, 0.0, 1.0))
                     .every(read_count(item, "every", 1));
  if (item.has("epsilon")) {
    const auto epsilon = item.child("epsilon");
    std::vector<double> values;
    if (epsilon.is_sequence()) {
      values = item.get<std::vector<double>>("epsilon");
      if (values.empty()) item.fail_at("epsilon", "'epsilon' needs at least one value");
    } else {
      values = {item.get<double>("epsilon")};
    }
    for (double value : values)
      if (!(value >= 0 && value <= 1e6)) item.fail_at("epsilon", "'epsilon' values must lie in [0, 1e6]");
    options.epsilon(values);
  }
  item.finish();
  return solver ? std::make_shared<CausalWeights>(*solver, options) : nullptr;
}

}  // namespace physis::pinn
