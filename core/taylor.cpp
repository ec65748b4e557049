#include "core/taylor.h"

#include <algorithm>

namespace physis {

namespace {
torch::Tensor sum_or_same(const torch::Tensor& t, bool summed) { return summed ? t.sum(0, /*keepdim=*/true) : t; }
torch::Tensor add_maybe(const torch::Tensor& a, const torch::Tensor& b) {
  if (!a.defined()) return b;
  if (!b.defined()) return a;
  return a + b;
}
torch::Tensor mul_maybe(const torch::Tensor& a, const torch::Tensor& b) {
  return a.defined() && b.defined() ? a * b : torch::Tensor();
}
// The result of an operation on jets of these modes.
Jet like(const Jet& x) {
  Jet y;
  y.summed = x.summed;
  y.order = x.order;
  return y;
}
void check_same_mode(const Jet& a, const Jet& b, const char* what) {
  TORCH_CHECK(a.summed == b.summed && a.order == b.order, what,
              ": both jets must carry the same derivatives (summed or per direction, and of one order)");
}
}  // namespace

Jet Jet::seed(const torch::Tensor& x, const torch::Tensor& directions, bool summed, int order) {
  TORCH_CHECK(x.dim() == 2, "Jet::seed: expected points [N, d] but got ", x.sizes());
  TORCH_CHECK(directions.dim() == 2 && directions.size(1) == x.size(1),
              "Jet::seed: expected directions [K, ", x.size(1), "] but got ", directions.sizes());
  Jet jet;
  jet.value = x;
  jet.first = directions.to(x.options()).unsqueeze(1);  // [K, 1, d]: the same for every point
  jet.summed = summed;
  TORCH_CHECK(order >= 2 && order <= 4, "Jet::seed: jets carry derivatives of order 2, 3 or 4, not ", order);
  TORCH_CHECK(!summed || order == 2, "Jet::seed: derivatives above the second are carried per direction, not summed");
  jet.order = order;
  return jet;
}

Jet Jet::along_axes(const torch::Tensor& x, const std::vector<int64_t>& dims, bool summed, int order) {
  const int64_t d = x.size(1);
  auto index = dims.empty() ? torch::arange(d, torch::TensorOptions().dtype(torch::kLong).device(x.device()))
                            : torch::tensor(dims, torch::TensorOptions().dtype(torch::kLong)).to(x.device());
  const int64_t k = index.size(0);
  // One-hot rows built directly: [K, d], never the d x d identity (d may be 10^5).
  auto directions = torch::zeros({k, d}, x.options());
  directions.scatter_(1, index.unsqueeze(1), 1.0);
  auto jet = seed(x, directions, summed, order);
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

torch::Tensor Jet::third_at(int64_t k) const {
  TORCH_CHECK(order >= 3, "Jet::third_at: this jet carries derivatives up to the second order only");
  if (!third.defined()) return torch::zeros_like(value);
  return third.select(0, k).expand_as(value);
}

torch::Tensor Jet::fourth_at(int64_t k) const {
  TORCH_CHECK(order >= 4, "Jet::fourth_at: this jet carries derivatives up to order ", order, " only");
  if (!fourth.defined()) return torch::zeros_like(value);
  return fourth.select(0, k).expand_as(value);
}

Jet jet_linear(const Jet& x, const torch::Tensor& weight, const torch::Tensor& bias) {
  Jet y = like(x);
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
  if (x.third.defined()) y.third = x.third.matmul(wt);                      // [K, N|1, out]
  if (x.fourth.defined()) y.fourth = x.fourth.matmul(wt);                   // [K, N|1, out]
  return y;
}

Jet jet_elementwise(const Jet& x, const torch::Tensor& f, const torch::Tensor& df, const torch::Tensor& d2f,
                    const torch::Tensor& d3f, const torch::Tensor& d4f) {
  Jet y = like(x);
  y.value = f;                                          // [N, w]
  y.first = df * x.first;                               // [K, N, w]
  auto square = x.first * x.first;
  auto curvature = d2f * sum_or_same(square, x.summed);  // [M, N, w]
  y.second = x.second.defined() ? torch::addcmul(curvature, df, x.second) : curvature;
  if (x.order >= 3) {
    TORCH_CHECK(d3f.defined(), "jet_elementwise: a jet of order ", x.order, " needs the function's third derivative");
    // f''' z1^3 + 3 f'' z1 z2 + f' z3
    y.third = d3f * square * x.first;
    if (x.second.defined()) y.third = y.third + 3 * d2f * x.first * x.second;
    if (x.third.defined()) y.third = torch::addcmul(y.third, df, x.third);
  }
  if (x.order >= 4) {
    TORCH_CHECK(d4f.defined(), "jet_elementwise: a jet of order 4 needs the function's fourth derivative");
    // f'''' z1^4 + 6 f''' z1^2 z2 + f'' (4 z1 z3 + 3 z2^2) + f' z4
    y.fourth = d4f * square * square;
    if (x.second.defined()) y.fourth = y.fourth + d3f * 6 * square * x.second + 3 * d2f * x.second * x.second;
    if (x.third.defined()) y.fourth = y.fourth + 4 * d2f * x.first * x.third;
    if (x.fourth.defined()) y.fourth = torch::addcmul(y.fourth, df, x.fourth);
  }
  return y;
}

Jet jet_mul(const Jet& a, const Jet& b) {
  check_same_mode(a, b, "jet_mul");
  Jet y = like(a);
  y.value = a.value * b.value;
  y.first = a.first * b.value + a.value * b.first;
  // (ab)'' = a'' b + 2 a' b' + a b''
  auto cross = 2 * sum_or_same(a.first * b.first, a.summed);
  y.second = add_maybe(add_maybe(a.second.defined() ? a.second * b.value : torch::Tensor(), cross),
                       b.second.defined() ? a.value * b.second : torch::Tensor());
  if (a.order >= 3) {
    // (ab)''' = a''' b + 3 a'' b' + 3 a' b'' + a b'''
    auto t = add_maybe(mul_maybe(a.third, b.value), mul_maybe(a.value, b.third));
    t = add_maybe(t, mul_maybe(a.second, 3 * b.first));
    y.third = add_maybe(t, mul_maybe(3 * a.first, b.second));
  }
  if (a.order >= 4) {
    // (ab)'''' = a'''' b + 4 a''' b' + 6 a'' b'' + 4 a' b''' + a b''''
    auto t = add_maybe(mul_maybe(a.fourth, b.value), mul_maybe(a.value, b.fourth));
    t = add_maybe(t, mul_maybe(a.third, 4 * b.first));
    t = add_maybe(t, mul_maybe(6 * a.second, b.second));
    y.fourth = add_maybe(t, mul_maybe(4 * a.first, b.third));
  }
  return y;
}

Jet jet_add(const Jet& a, const Jet& b) {
  check_same_mode(a, b, "jet_add");
  Jet y = like(a);
  y.value = a.value + b.value;
  y.first = a.first + b.first;
  y.second = add_maybe(a.second, b.second);
  y.third = add_maybe(a.third, b.third);
  y.fourth = add_maybe(a.fourth, b.fourth);
  return y;
}

Jet jet_narrow(const Jet& x, int64_t start, int64_t length) {
  Jet y = like(x);
  y.value = x.value.narrow(-1, start, length);
  y.first = x.first.narrow(-1, start, length);
  if (x.second.defined()) y.second = x.second.narrow(-1, start, length);
  if (x.third.defined()) y.third = x.third.narrow(-1, start, length);
  if (x.fourth.defined()) y.fourth = x.fourth.narrow(-1, start, length);
  return y;
}

Jet jet_cat(const std::vector<Jet>& parts) {
  TORCH_CHECK(!parts.empty(), "jet_cat: nothing to concatenate");
  Jet y = like(parts.front());
  for (const auto& p : parts) check_same_mode(parts.front(), p, "jet_cat");
  const int64_t n = parts.front().value.size(0);
  // One part of every piece at full size [rows, N, w]; an undefined part stands for zeros.
  auto cat_part = [&](torch::Tensor Jet::*part, int64_t rows) {
    const bool any = std::any_of(parts.begin(), parts.end(), [&](const Jet& j) { return (j.*part).defined(); });
    if (!any) return torch::Tensor();
    std::vector<torch::Tensor> pieces;
    for (const auto& p : parts) {
      const auto& t = p.*part;
      pieces.push_back(t.defined() ? t.expand({rows, n, p.value.size(1)})
                                   : torch::zeros({rows, n, p.value.size(1)}, p.value.options()));
    }
    return torch::cat(pieces, -1);
  };
  std::vector<torch::Tensor> values;
  for (const auto& p : parts) values.push_back(p.value);
  const int64_t k = parts.front().first.size(0);
  y.value = torch::cat(values, -1);
  y.first = cat_part(&Jet::first, k);
  y.second = cat_part(&Jet::second, y.summed ? 1 : k);
  y.third = cat_part(&Jet::third, k);
  y.fourth = cat_part(&Jet::fourth, k);
  return y;
}

Jet jet_affine(const Jet& x, const torch::Tensor& shift, const torch::Tensor& scale) {
  Jet y = like(x);
  y.value = (x.value - shift) * scale;
  y.first = x.first * scale;
  y.axes = x.axes;  // a per-column scale keeps unit seeds on their axes
  if (x.second.defined()) y.second = x.second * scale;
  if (x.third.defined()) y.third = x.third * scale;
  if (x.fourth.defined()) y.fourth = x.fourth * scale;
  return y;
}

}  // namespace physis
