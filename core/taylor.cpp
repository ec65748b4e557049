#include "core/taylor.h"

namespace physis {

namespace {
torch::Tensor sum_or_same(const torch::Tensor& t, bool summed) { return summed ? t.sum(0, /*keepdim=*/true) : t; }
torch::Tensor add_maybe(const torch::Tensor& a, const torch::Tensor& b) {
  if (!a.defined()) return b;
  if (!b.defined()) return a;
  return a + b;
}
}  // namespace

Jet Jet::seed(const torch::Tensor& x, const torch::Tensor& directions, bool summed) {
  TORCH_CHECK(x.dim() == 2, "Jet::seed: expected points [N, d] but got ", x.sizes());
  TORCH_CHECK(directions.dim() == 2 && directions.size(1) == x.size(1),
              "Jet::seed: expected directions [K, ", x.size(1), "] but got ", directions.sizes());
  Jet jet;
  jet.value = x;
  jet.first = directions.to(x.options()).unsqueeze(1);  // [K, 1, d]: the same for every point
  jet.summed = summed;
  return jet;
}

Jet Jet::along_axes(const torch::Tensor& x, const std::vector<int64_t>& dims, bool summed) {
  const int64_t d = x.size(1);
  auto index = dims.empty() ? torch::arange(d, torch::TensorOptions().dtype(torch::kLong).device(x.device()))
                            : torch::tensor(dims, torch::TensorOptions().dtype(torch::kLong)).to(x.device());
  const int64_t k = index.size(0);
  // One-hot rows built directly: [K, d], never the d x d identity (d may be 10^5).
  auto directions = torch::zeros({k, d}, x.options());
  directions.scatter_(1, index.unsqueeze(1), 1.0);
  auto jet = seed(x, directions, summed);
  jet.axes = index;
  return jet;
}

torch::Tensor Jet::second_sum() const {
  if (!second.defined()) return torch::zeros_like(value);
  return (summed ? second.squeeze(0) : second.sum(0)).expand_as(value);
}

torch::Tensor Jet::second_at(int64_t k) const {
  TORCH_CHECK(!summed, "Jet::second_at: this jet holds only the sum of second derivatives");
  if (!second.defined()) return torch::zeros_like(value);
  return second.select(0, k).expand_as(value);
}

torch::Tensor Jet::first_at(int64_t k) const { return first.select(0, k).expand_as(value); }

Jet jet_linear(const Jet& x, const torch::Tensor& weight, const torch::Tensor& bias) {
  Jet y;
  y.summed = x.summed;
  auto wt = weight.t();                                                     // [in, out]
  y.value = bias.defined() ? torch::addmm(bias, x.value, wt) : x.value.mm(wt);  // [N, out]
  if (x.axes.defined() && x.first.size(1) == 1) {
    // Unit seeds scaled by c_k along axis a_k: row k of first W^T is c_k W[:, a_k].
    auto scale = x.first.squeeze(1).gather(1, x.axes.unsqueeze(1));        // [K, 1]
    y.first = (scale * wt.index_select(0, x.axes)).unsqueeze(1);            // [K, 1, out]
  } else {
    y.first = x.first.matmul(wt);                                           // [K, N|1, out]
  }
  if (x.second.defined()) y.second = x.second.matmul(wt);                   // [M, N|1, out]
  return y;
}

Jet jet_elementwise(const Jet& x, const torch::Tensor& f, const torch::Tensor& df, const torch::Tensor& d2f) {
  Jet y;
  y.summed = x.summed;
  y.value = f;                                          // [N, w]
  y.first = df * x.first;                               // [K, N, w]
  auto curvature = d2f * sum_or_same(x.first * x.first, x.summed);  // [M, N, w]
  y.second = x.second.defined() ? torch::addcmul(curvature, df, x.second) : curvature;
  return y;
}

Jet jet_mul(const Jet& a, const Jet& b) {
  TORCH_CHECK(a.summed == b.summed, "jet_mul: both jets must use the same second-derivative mode");
  Jet y;
  y.summed = a.summed;
  y.value = a.value * b.value;
  y.first = a.first * b.value + a.value * b.first;
  // (ab)'' = a'' b + 2 a' b' + a b''
  auto cross = 2 * sum_or_same(a.first * b.first, a.summed);
  y.second = add_maybe(add_maybe(a.second.defined() ? a.second * b.value : torch::Tensor(), cross),
                       b.second.defined() ? a.value * b.second : torch::Tensor());
  return y;
}

Jet jet_add(const Jet& a, const Jet& b) {
  TORCH_CHECK(a.summed == b.summed, "jet_add: both jets must use the same second-derivative mode");
  Jet y;
  y.summed = a.summed;
  y.value = a.value + b.value;
  y.first = a.first + b.first;
  y.second = add_maybe(a.second, b.second);
  return y;
}

Jet jet_narrow(const Jet& x, int64_t start, int64_t length) {
  Jet y;
  y.summed = x.summed;
  y.value = x.value.narrow(-1, start, length);
  y.first = x.first.narrow(-1, start, length);
  if (x.second.defined()) y.second = x.second.narrow(-1, start, length);
  return y;
}

Jet jet_cat(const std::vector<Jet>& parts) {
  TORCH_CHECK(!parts.empty(), "jet_cat: nothing to concatenate");
  Jet y;
  y.summed = parts.front().summed;
  std::vector<torch::Tensor> values, firsts, seconds;
  const bool any_second = std::any_of(parts.begin(), parts.end(), [](const Jet& j) { return j.second.defined(); });
  const int64_t n = parts.front().value.size(0);
  for (const auto& p : parts) {
    values.push_back(p.value);
    firsts.push_back(p.first.expand({p.first.size(0), n, p.first.size(2)}));
    if (any_second) {
      const int64_t m = y.summed ? 1 : p.first.size(0);
      seconds.push_back(p.second.defined() ? p.second.expand({m, n, p.value.size(1)})
                                           : torch::zeros({m, n, p.value.size(1)}, p.value.options()));
    }
  }
  y.value = torch::cat(values, -1);
  y.first = torch::cat(firsts, -1);
  if (any_second) y.second = torch::cat(seconds, -1);
  return y;
}

Jet jet_affine(const Jet& x, const torch::Tensor& shift, const torch::Tensor& scale) {
  Jet y;
  y.summed = x.summed;
  y.value = (x.value - shift) * scale;
  y.first = x.first * scale;
  y.axes = x.axes;  // a per-column scale keeps unit seeds on their axes
  if (x.second.defined()) y.second = x.second * scale;
  return y;
}

}  // namespace physis
