// Networks: shapes, initialisation, clone, save/load.
#include "core/diff.h"
#include "core/network.h"

#include <catch2/catch.hpp>
#include <torch/serialize.h>

#include <cmath>
#include <sstream>

using namespace physis;

TEST_CASE("MLP shapes and Glorot initialisation", "[network]") {
  torch::manual_seed(0);
  MLP net(MLPOptions({3, 200, 200, 2}));
  REQUIRE(net->layers->size() == 3);
  REQUIRE(net->forward(torch::rand({7, 3})).sizes() == torch::IntArrayRef({7, 2}));
  auto w = net->layers[1]->as<torch::nn::Linear>()->weight;
  // Glorot uniform: U(-a, a), a = sqrt(6 / (fan_in + fan_out)); variance a^2 / 3.
  const double a = std::sqrt(6.0 / 400.0);
  REQUIRE(w.abs().max().item<double>() <= a);
  REQUIRE(w.var().item<double>() == Approx(a * a / 3).epsilon(0.05));
  REQUIRE(net->layers[1]->as<torch::nn::Linear>()->bias.abs().max().item<double>() == 0.0);
  REQUIRE_THROWS_WITH(net->forward(torch::rand({7, 4})), Catch::Contains("expected [N, 3]"));
  REQUIRE_THROWS(MLP(MLPOptions({3})));
}

TEST_CASE("activations by name", "[network]") {
  REQUIRE(parse_activation("sin") == Activation::sin);
  REQUIRE(parse_activation("swish") == Activation::silu);
  REQUIRE_THROWS_WITH(parse_activation("relu6"), Catch::Contains("expected tanh, sin, silu or gelu"));
  auto x = torch::linspace(-2, 2, 9);
  REQUIRE(torch::allclose(apply_activation(Activation::sin, x), torch::sin(x)));
}

TEST_CASE("clone is a deep copy with equal outputs", "[network]") {
  torch::manual_seed(1);
  FieldNetwork net(FieldNetworkOptions(MLPOptions({2, 16, 16, 1})).fourier_features(8).input_lower({0, 0}).input_upper({2, 4}));
  auto copy = std::dynamic_pointer_cast<FieldNetworkImpl>(net->clone());
  auto x = torch::rand({5, 2});
  REQUIRE(torch::equal(net->forward(x), copy->forward(x)));
  torch::NoGradGuard no_grad;
  copy->mlp->layers[0]->as<torch::nn::Linear>()->weight.add_(1.0);
  REQUIRE_FALSE(torch::equal(net->forward(x), copy->forward(x)));
}

TEST_CASE("save and load give identical outputs, buffers included", "[network]") {
  torch::manual_seed(2);
  auto opts = FieldNetworkOptions(MLPOptions({2, 8, 3}).activation(Activation::gelu)).fourier_features(4).fourier_sigma(2.0);
  FieldNetwork a(opts);
  std::stringstream buffer;
  {
    torch::serialize::OutputArchive archive;
    a->save(archive);
    archive.save_to(buffer);
  }
  torch::manual_seed(99);  // different random init, including the Fourier frequencies
  FieldNetwork b(opts);
  auto x = torch::rand({6, 2});
  REQUIRE_FALSE(torch::equal(a->forward(x), b->forward(x)));
  torch::serialize::InputArchive archive;
  archive.load_from(buffer);
  b->load(archive);
  REQUIRE(torch::equal(a->forward(x), b->forward(x)));
}

TEST_CASE("input scaling maps the box to [-1, 1] and the output transform applies", "[network]") {
  FieldNetwork net(FieldNetworkOptions(MLPOptions({2, 4, 1})).input_lower({0, 10}).input_upper({2, 30}));
  auto x = torch::tensor({{0.0, 10.0}, {2.0, 30.0}, {1.0, 20.0}});
  auto scaled = (x - net->input_shift) * net->input_scale;
  REQUIRE(torch::allclose(scaled, torch::tensor({{-1.0, -1.0}, {1.0, 1.0}, {0.0, 0.0}})));
  // Hard-constraint style transform: u = x0 * raw, so u vanishes where x0 = 0.
  net->set_output_transform([](const torch::Tensor& in, const torch::Tensor& raw) { return in.narrow(1, 0, 1) * raw; });
  REQUIRE(net->forward(x)[0].item<double>() == 0.0);
  REQUIRE(net->forward(x)[1].item<double>() != 0.0);
  REQUIRE_THROWS_WITH(net->forward_jet(Jet::along_axes(x, {}, true)), Catch::Contains("no forward-mode version"));
}

TEST_CASE("output scaling scales and shifts each output, its jets and nothing of a plain network", "[network]") {
  torch::manual_seed(3);
  FieldNetwork plain(FieldNetworkOptions(MLPOptions({2, 8, 8, 2})));
  torch::manual_seed(3);
  FieldNetwork scaled(FieldNetworkOptions(MLPOptions({2, 8, 8, 2})).output_scale({20, -0.5}).output_shift({25, 1}));
  plain->to(torch::kFloat64);
  scaled->to(torch::kFloat64);
  // A plain network has no such buffers: its checkpoints keep their layout.
  REQUIRE(plain->named_buffers().size() + 2 == scaled->named_buffers().size());
  auto x = torch::rand({16, 2}, torch::kFloat64);
  auto factor = torch::tensor({20.0, -0.5}, torch::kFloat64), shift = torch::tensor({25.0, 1.0}, torch::kFloat64);
  REQUIRE(torch::allclose(scaled->forward(x), plain->forward(x) * factor + shift, 1e-12, 1e-12));
  // Jets: the value shifts and scales, every derivative only scales.
  auto a = plain->forward_jet(Jet::along_axes(x, {0, 1}, false, 4));
  auto b = scaled->forward_jet(Jet::along_axes(x, {0, 1}, false, 4));
  REQUIRE(torch::allclose(b.value, a.value * factor + shift, 1e-12, 1e-12));
  REQUIRE(torch::allclose(b.first, a.first * factor, 1e-12, 1e-12));
  REQUIRE(torch::allclose(b.second, a.second * factor, 1e-12, 1e-12));
  REQUIRE(torch::allclose(b.fourth, a.fourth * factor, 1e-12, 1e-12));
  REQUIRE_THROWS_WITH(FieldNetwork(FieldNetworkOptions(MLPOptions({2, 4, 2})).output_scale({1, 0})),
                      Catch::Contains("not 0"));
  REQUIRE_THROWS_WITH(FieldNetwork(FieldNetworkOptions(MLPOptions({2, 4, 2})).output_shift({1})),
                      Catch::Contains("one entry per output"));
}

TEST_CASE("periodic inputs make the output and its derivatives agree at both ends", "[network]") {
  torch::manual_seed(5);
  // Periodic in x (period 3) and t (period 2), free in y.
  FieldNetwork net(FieldNetworkOptions(MLPOptions({3, 16, 16, 2})).input_lower({1, 0, 0}).input_upper({4, 1, 2})
                       .periodic_inputs({0, 2}));
  net->to(torch::kFloat64);
  REQUIRE(net->mlp->in_features() == 5);  // cos and sin of x and t, and y
  auto x = torch::rand({8, 3}, torch::kFloat64) * torch::tensor({3.0, 1.0, 2.0}, torch::kFloat64) +
           torch::tensor({1.0, 0.0, 0.0}, torch::kFloat64);
  auto at = [&](int64_t axis, double value) {
    auto y = x.clone();
    y.select(1, axis).fill_(value);
    return y.requires_grad_(true);
  };
  for (auto [axis, lo, hi] : {std::tuple{0, 1.0, 4.0}, std::tuple{2, 0.0, 2.0}}) {
    auto a = at(axis, lo), b = at(axis, hi);
    Derivatives da(a, net->forward(a)), db(b, net->forward(b));
    for (int64_t out = 0; out < 2; ++out) {
      INFO("axis " << axis << " output " << out << " difference " << (da.value(out) - db.value(out)).abs().max().item<double>());
      REQUIRE(torch::allclose(da.value(out), db.value(out), 1e-12, 1e-12));
      for (int64_t i = 0; i < 3; ++i) {
        REQUIRE(torch::allclose(da.d(out, i), db.d(out, i), 1e-10, 1e-10));
        REQUIRE(torch::allclose(da.d(out, i, i), db.d(out, i, i), 1e-10, 1e-10));
      }
    }
  }
  // The free input is not periodic.
  auto a = at(1, 0.0), b = at(1, 1.0);
  REQUIRE_FALSE(torch::allclose(net->forward(a), net->forward(b), 1e-3, 1e-3));
  REQUIRE_THROWS_WITH(FieldNetwork(FieldNetworkOptions(MLPOptions({2, 4, 1})).periodic_inputs({0})),
                      Catch::Contains("need input_lower and input_upper"));
  REQUIRE_THROWS_WITH(FieldNetwork(FieldNetworkOptions(MLPOptions({2, 4, 1})).input_lower({0, 0}).input_upper({1, 1})
                                       .periodic_inputs({2})),
                      Catch::Contains("periodic input 2 is not one of the 2 inputs"));
}
