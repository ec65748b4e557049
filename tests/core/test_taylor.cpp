// Forward-mode derivatives through networks equal nested reverse-mode autograd (float64, 1e-8).
#include "core/diff.h"
#include "core/network.h"
#include "core/taylor.h"

#include <catch2/catch.hpp>

using namespace physis;

namespace {
double max_error(const torch::Tensor& a, const torch::Tensor& b) { return (a - b).abs().max().item<double>(); }
}  // namespace

TEST_CASE("Taylor-mode Laplacian and directional second derivatives equal nested autograd", "[taylor]") {
  torch::manual_seed(3);
  const auto activation = GENERATE(Activation::tanh, Activation::sin, Activation::silu, Activation::gelu);
  const bool periodic = GENERATE(false, true);
  INFO("activation " << activation_name(activation) << (periodic ? ", periodic in inputs 0 and 2" : ""));
  FieldNetwork net(FieldNetworkOptions(MLPOptions({3, 16, 16, 2}).activation(activation))
                       .input_lower({-1, 0, 2})
                       .input_upper({1, 2, 5})
                       .fourier_features(GENERATE(0, 4))
                       .periodic_inputs(periodic ? std::vector<int64_t>{0, 2} : std::vector<int64_t>{}));
  net->to(torch::kFloat64);
  auto x = torch::rand({20, 3}, torch::kFloat64);

  auto xg = x.clone().requires_grad_(true);
  Derivatives d(xg, net->forward(xg));

  auto summed = net->forward_jet(Jet::along_axes(x, {}, /*summed=*/true));
  REQUIRE(max_error(summed.value, net->forward(x)) < 1e-12);
  for (int64_t out = 0; out < 2; ++out) {
    REQUIRE(max_error(summed.second_sum().select(1, out), d.laplacian(out)) < 1e-8);
    for (int64_t i = 0; i < 3; ++i) REQUIRE(max_error(summed.first_at(i).select(1, out), d.d(out, i)) < 1e-8);
  }

  auto per_direction = net->forward_jet(Jet::along_axes(x, {0, 2}, /*summed=*/false));
  REQUIRE(max_error(per_direction.second_at(0).select(1, 1), d.d(1, 0, 0)) < 1e-8);
  REQUIRE(max_error(per_direction.second_at(1).select(1, 1), d.d(1, 2, 2)) < 1e-8);

  // A general direction v: d^2/ds^2 u(x + s v) = v^T H v.
  auto v = torch::tensor({{0.3, -1.2, 0.5}}, torch::kFloat64);
  auto dir = net->forward_jet(Jet::seed(x, v, false));
  auto vhv = 0.09 * d.d(0, 0, 0) + 1.44 * d.d(0, 1, 1) + 0.25 * d.d(0, 2, 2) + 2 * (-0.36 * d.d(0, 0, 1) +
             0.15 * d.d(0, 0, 2) - 0.6 * d.d(0, 1, 2));
  REQUIRE(max_error(dir.second_at(0).select(1, 0), vhv) < 1e-8);
}

TEST_CASE("jets of order 3 and 4 equal nested autograd along axes and general directions", "[taylor]") {
  torch::manual_seed(13);
  const int order = GENERATE(3, 4);
  const auto activation = GENERATE(Activation::tanh, Activation::sin, Activation::silu, Activation::gelu);
  const bool periodic = GENERATE(false, true);
  const int64_t fourier = GENERATE(0, 4);
  INFO("order " << order << ", activation " << activation_name(activation)
                << (periodic ? ", periodic in input 2" : "") << ", fourier " << fourier);
  FieldNetwork net(FieldNetworkOptions(MLPOptions({3, 16, 16, 2}).activation(activation))
                       .input_lower({-1, 0, 2})
                       .input_upper({1, 2, 5})
                       .fourier_features(fourier)
                       .periodic_inputs(periodic ? std::vector<int64_t>{2} : std::vector<int64_t>{}));
  net->to(torch::kFloat64);
  auto x = torch::rand({20, 3}, torch::kFloat64);
  auto xg = x.clone().requires_grad_(true);
  Derivatives d(xg, net->forward(xg));
  // Relative to the size of the reference (Fourier features make high derivatives large).
  auto close = [](const torch::Tensor& a, const torch::Tensor& b, double tolerance = 1e-8) {
    return max_error(a, b) < tolerance * (1 + b.abs().max().item<double>());
  };
  // The jet's derivative of the order under test along direction k.
  auto top = [&](const Jet& jet, int64_t k) { return order == 3 ? jet.third_at(k) : jet.fourth_at(k); };
  auto repeated = [&](int64_t axis) { return std::vector<int64_t>(order, axis); };

  auto jet = net->forward_jet(Jet::along_axes(x, {0, 2}, /*summed=*/false, order));
  for (int64_t out = 0; out < 2; ++out) {
    REQUIRE(close(top(jet, 0).select(1, out), d.d(out, repeated(0))));
    REQUIRE(close(top(jet, 1).select(1, out), d.d(out, repeated(2))));
    REQUIRE(close(jet.second_at(1).select(1, out), d.d(out, 2, 2)));
    if (order == 4) REQUIRE(close(jet.third_at(0).select(1, out), d.d(out, {0, 0, 0})));
  }
  // v = (a, b, 0): D^n_v u = sum_m C(n, m) a^(n - m) b^m (the derivative n - m times along x, m times along y).
  const double a = 0.6, b = -1.1;
  auto dir = net->forward_jet(Jet::seed(x, torch::tensor({{a, b, 0.0}}, torch::kFloat64), false, order));
  torch::Tensor expected, unmixed;
  for (int m = 0, binomial = 1; m <= order; binomial = binomial * (order - m) / (m + 1), ++m) {
    std::vector<int64_t> dims(order - m, 0);
    dims.insert(dims.end(), m, 1);
    auto term = binomial * std::pow(a, order - m) * std::pow(b, m) * d.d(1, dims);
    expected = expected.defined() ? expected + term : term;
    if (m == 0 || m == order) unmixed = unmixed.defined() ? unmixed + term : term;
  }
  REQUIRE(close(top(dir, 0).select(1, 1), expected));
  // Negative control: the same sum without its mixed terms is visibly different.
  REQUIRE(max_error(top(dir, 0).select(1, 1), unmixed) > 1e-4);

  // Parameter gradients of a loss on these derivatives equal those of the same loss by nested autograd.
  auto weights = torch::rand({20}, torch::kFloat64);
  auto gradients = [&](const torch::Tensor& loss) {
    net->zero_grad();
    loss.backward();
    std::vector<torch::Tensor> g;
    for (const auto& p : net->parameters())
      if (p.requires_grad()) g.push_back(p.grad().defined() ? p.grad().clone() : torch::zeros_like(p));
    return g;
  };
  auto x2 = x.clone().requires_grad_(true);
  Derivatives d2(x2, net->forward(x2));
  auto reference =
      gradients((d2.d(0, repeated(0)) * weights).square().sum() + (d2.d(1, repeated(2)) * d2.d(0, 0)).sum());
  auto jet2 = net->forward_jet(Jet::along_axes(x, {0, 2}, false, order));
  auto taylor = gradients((top(jet2, 0).select(1, 0) * weights).square().sum() +
                          (top(jet2, 1).select(1, 1) * jet2.first_at(0).select(1, 0)).sum());
  REQUIRE(taylor.size() == reference.size());
  for (std::size_t i = 0; i < reference.size(); ++i) {
    INFO("parameter " << i << ", largest gradient " << reference[i].abs().max().item<double>());
    REQUIRE(close(taylor[i], reference[i], 1e-10));
  }
}

TEST_CASE("third-order product rule: (1 - |x|^2) * net(x)", "[taylor]") {
  torch::manual_seed(14);
  MLP net(MLPOptions({2, 12, 1}));
  net->to(torch::kFloat64);
  auto x = 0.5 * torch::rand({10, 2}, torch::kFloat64);
  auto xg = x.clone().requires_grad_(true);
  Derivatives d(xg, (1 - xg.square().sum(1, true)) * net->forward(xg));
  // g = 1 - |x|^2 along e_0: first -2 x_0, second -2, third 0 (undefined).
  Jet g;
  g.order = 3;
  g.value = 1 - x.square().sum(1, true);
  g.first = (-2 * x.select(1, 0)).reshape({1, -1, 1});
  g.second = torch::full({1, 1, 1}, -2.0, torch::kFloat64);
  auto u = jet_mul(g, net->forward_jet(Jet::along_axes(x, {0}, false, 3)));
  REQUIRE(max_error(u.third_at(0).select(1, 0), d.d(0, {0, 0, 0})) < 1e-8);
  REQUIRE_THROWS(jet_mul(g, net->forward_jet(Jet::along_axes(x, {0}, false))));  // modes must agree
}

TEST_CASE("jet product rule matches autograd for an ansatz (1 - |x|^2) * net(x)", "[taylor]") {
  torch::manual_seed(4);
  MLP net(MLPOptions({4, 12, 1}));
  net->to(torch::kFloat64);
  auto x = 0.5 * torch::rand({10, 4}, torch::kFloat64);
  auto xg = x.clone().requires_grad_(true);
  auto u = (1 - xg.square().sum(1, true)) * net->forward(xg);
  Derivatives d(xg, u);

  auto jx = Jet::along_axes(x, {}, true);
  // g(x) = 1 - |x|^2: first = -2 x_k, second = -2 per direction (summed: -2 d).
  Jet g;
  g.summed = true;
  g.value = 1 - x.square().sum(1, true);
  g.first = (-2 * x).t().unsqueeze(-1);                                   // [K, N, 1]
  g.second = torch::full({1, 1, 1}, -2.0 * 4, torch::kFloat64);
  auto ju = jet_mul(g, net->forward_jet(jx));
  REQUIRE(max_error(ju.second_sum().select(1, 0), d.laplacian(0)) < 1e-8);
}

TEST_CASE("a wrong second-derivative rule would be caught (negative control)", "[taylor]") {
  torch::manual_seed(5);
  MLP net(MLPOptions({2, 8, 1}));
  net->to(torch::kFloat64);
  auto x = torch::rand({16, 2}, torch::kFloat64);
  auto xg = x.clone().requires_grad_(true);
  Derivatives d(xg, net->forward(xg));
  auto jet = net->forward_jet(Jet::along_axes(x, {}, false));
  // Dropping the curvature term f''(z) (z')^2 must give a visibly wrong second derivative.
  auto first_layer = net->layers[0]->as<torch::nn::Linear>();
  auto z = torch::addmm(first_layer->bias, x, first_layer->weight.t());
  auto t = torch::tanh(z);
  auto wrong = ((1 - t * t) * 0).mm(net->layers[1]->as<torch::nn::Linear>()->weight.t());
  REQUIRE(max_error(jet.second_at(0).select(1, 0), d.d(0, 0, 0)) < 1e-8);
  REQUIRE(max_error(wrong.select(1, 0), d.d(0, 0, 0)) > 1e-4);
}

TEST_CASE("parameter gradients through the fused jet equal those through nested autograd", "[taylor]") {
  torch::manual_seed(6);
  const auto activation = GENERATE(Activation::tanh, Activation::sin, Activation::silu, Activation::gelu);
  const bool summed = GENERATE(true, false);
  INFO("activation " << activation_name(activation) << ", summed " << summed);
  MLP net(MLPOptions({3, 10, 10, 2}).activation(activation));
  net->to(torch::kFloat64);
  auto x = torch::rand({12, 3}, torch::kFloat64);
  auto weights = torch::rand({12}, torch::kFloat64);

  auto gradients = [&](const torch::Tensor& loss) {
    net->zero_grad();
    loss.backward();
    std::vector<torch::Tensor> g;
    for (const auto& p : net->parameters()) g.push_back(p.grad().clone());
    return g;
  };
  // Losses that use the value, first and second derivatives, as PDE residuals do.
  auto xg = x.clone().requires_grad_(true);
  Derivatives d(xg, net->forward(xg));
  auto lap0 = d.d(0, 0, 0) + d.d(0, 1, 1) + d.d(0, 2, 2);
  auto reference_loss = (lap0 * weights).square().sum() + (d.d(1, 1) * d.value(0)).sum();
  if (!summed) reference_loss = reference_loss + (d.d(1, 2, 2) * weights).sum();
  auto reference = gradients(reference_loss);

  auto jet = net->forward_jet(Jet::along_axes(x, {}, summed));
  auto loss = (jet.second_sum().select(1, 0) * weights).square().sum() +
              (jet.first_at(1).select(1, 1) * jet.value.select(1, 0)).sum();
  if (!summed) loss = loss + (jet.second_at(2).select(1, 1) * weights).sum();
  auto taylor = gradients(loss);
  for (std::size_t i = 0; i < reference.size(); ++i) REQUIRE(max_error(taylor[i], reference[i]) < 1e-9);
}
