// Networks: shapes, initialisation, clone, save/load.
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
