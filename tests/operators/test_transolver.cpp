// Transolver and the hybrid DeepONet-Transolver: slice weights, permutation equivariance on point clouds, padding,
// the structured variant on 2D and 3D grids, save/load, and a small joint field + history training.
#include "core/config.h"
#include "core/runtime.h"
#include "operators/hybrid.h"
#include "operators/operator_training.h"
#include "operators/surrogate.h"

#include "tests/operators/helpers.h"
#include "tests/scratch.h"
#include "operators/transolver.h"

#include <catch2/catch.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>

using namespace physis;
using namespace physis::ops;

namespace {

using physis::test::fitted_surrogate;
using physis::test::model_yaml;

Extras with_params(const torch::Tensor& params) {
  Extras e;
  e.params = params;
  return e;
}

// Designs p in [-1, 1]^2 on point clouds of 20-30 random points: field u = p0 x + p1 y, history F(t) = p0 t at
// 10 times in [0, 1].
Dataset design_data(int64_t samples, uint64_t seed) {
  torch::manual_seed(seed);
  Dataset d;
  d.coordinate_names = {"x", "y"};
  d.target_names = {"u"};
  d.param_names = {"p0", "p1"};
  d.history_names = {"F"};
  d.source = "designs (test)";
  auto times = torch::linspace(0, 1, 10);
  for (int64_t i = 0; i < samples; ++i) {
    const int64_t n = 20 + i % 11;
    auto x = torch::rand({n, 2});
    auto p = torch::rand({2}) * 2 - 1;
    Sample s;
    s.coords = x;
    s.targets = (x * p).sum(1, true);
    s.params = p;
    s.times = times;
    s.history = (p[0] * times).unsqueeze(1);
    d.samples.push_back(s);
  }
  d.validate();
  return d;
}

// A permeability-like input on an n_x x n_y grid and a smooth target of it.
Dataset grid_data(const std::vector<int64_t>& grid, int64_t samples) {
  torch::manual_seed(11);
  Dataset d;
  d.grid_shape = grid;
  d.coordinate_names = {"x", "y"};
  d.field_names = {"a"};
  d.target_names = {"u"};
  d.source = "grid (test)";
  auto coords = grid_coordinates(grid, {0, 0}, {1, 1});
  for (int64_t i = 0; i < samples; ++i) {
    auto a = torch::randn({coords.size(0), 1});
    Sample s;
    s.coords = coords;
    s.fields = a;
    s.targets = torch::sin(3 * coords.select(1, 0)).unsqueeze(1) * a;
    d.samples.push_back(s);
  }
  d.validate();
  return d;
}

TransolverOptions tiny(int64_t dims, int64_t outputs) {
  return TransolverOptions(dims, outputs).width(16).layers(2).heads(2).slices(6);
}

}  // namespace

TEST_CASE("Transolver: slice weights sum to one over the slices and vanish at padded points", "[transolver]") {
  torch::manual_seed(1);
  auto valid = torch::ones({2, 10});
  valid.index_put_({1, torch::indexing::Slice(7, 10)}, 0);
  const std::vector<PhysicsAttentionOptions> variants{
      PhysicsAttentionOptions(16, 4, 8),
      PhysicsAttentionOptions(16, 4, 8).adaptive_temperature(true).gumbel(true),
  };
  for (const auto& options : variants) {
    PhysicsAttention attention(options);
    auto x = torch::randn({2, 10, 16});
    auto w = attention->slice_weights(x, valid);  // [B, H, N, M]
    REQUIRE(w.sizes() == torch::IntArrayRef{2, 4, 10, 8});
    REQUIRE(torch::allclose(w.sum(-1), valid.unsqueeze(1).expand({2, 4, 10}), 1e-5, 1e-6));
    REQUIRE(w.min().item<double>() >= 0);
  }
  // The structured form: weights of the points of a 5 x 4 grid, every one a distribution over the slices.
  PhysicsAttention grid(PhysicsAttentionOptions(8, 2, 5).grid_shape({5, 4}));
  auto w = grid->slice_weights(torch::randn({3, 20, 8}));
  REQUIRE(w.sizes() == torch::IntArrayRef{3, 2, 20, 5});
  REQUIRE(torch::allclose(w.sum(-1), torch::ones({3, 2, 20}), 1e-5, 1e-6));
}

TEST_CASE("Transolver: the unstructured variant is equivariant to permutations of the points", "[transolver]") {
  torch::manual_seed(2);
  for (bool unified : {false, true}) {
    Transolver net(tiny(2, 2).field_channels(1).params(2).unified_pos(unified).reference_grid(3)
                       .adaptive_temperature(unified));
    net->to(torch::kFloat64);
    auto coords = torch::rand({2, 25, 2}, torch::kFloat64);
    auto fields = torch::randn({2, 25, 1}, torch::kFloat64);
    auto extras = with_params(torch::randn({2, 2}, torch::kFloat64));
    auto perm = torch::randperm(25, torch::kLong);
    auto out = net->forward(coords, fields, extras);
    REQUIRE(out.sizes() == torch::IntArrayRef{2, 25, 2});
    auto permuted = net->forward(coords.index_select(1, perm), fields.index_select(1, perm), extras);
    REQUIRE((permuted - out.index_select(1, perm)).abs().max().item<double>() < 1e-5);
  }
}

TEST_CASE("Transolver: padded points do not change the outputs at real points", "[transolver]") {
  torch::manual_seed(3);
  Transolver net(tiny(3, 1).params(1));
  net->to(torch::kFloat64);
  auto small = torch::rand({1, 12, 3}, torch::kFloat64), large = torch::rand({1, 20, 3}, torch::kFloat64);
  auto params = torch::randn({2, 1}, torch::kFloat64);
  auto alone_small = net->forward(small, {}, with_params(params.narrow(0, 0, 1)));
  auto alone_large = net->forward(large, {}, with_params(params.narrow(0, 1, 1)));
  // The batch as Dataset::batch builds it: the small cloud padded to 20 points (with garbage here, not zeros).
  auto padded = torch::cat({small, torch::rand({1, 8, 3}, torch::kFloat64) * 100}, 1);
  Extras extras = with_params(params);
  extras.valid = torch::ones({2, 20}, torch::kFloat64);
  extras.valid.index_put_({0, torch::indexing::Slice(12, 20)}, 0);
  auto batched = net->forward(torch::cat({padded, large}), {}, extras);
  REQUIRE((batched[0].narrow(0, 0, 12) - alone_small[0]).abs().max().item<double>() < 1e-10);
  REQUIRE((batched[1] - alone_large[0]).abs().max().item<double>() < 1e-10);
}

TEST_CASE("Transolver: the structured variant on non-square 2D and on 3D grids", "[transolver]") {
  torch::manual_seed(4);
  Transolver plane(tiny(2, 3).field_channels(2).grid_shape({7, 5}).unified_pos(true).reference_grid(4));
  auto coords = grid_coordinates({7, 5}, {0, 0}, {1, 1}).unsqueeze(0);
  auto out = plane->forward(coords, torch::randn({3, 35, 2}), {});
  REQUIRE(out.sizes() == torch::IntArrayRef{3, 35, 3});
  REQUIRE_THROWS_WITH(plane->forward(torch::rand({1, 30, 2}), torch::randn({3, 30, 2}), {}),
                      Catch::Contains("35 points of its grid"));
  Transolver volume(tiny(3, 1).field_channels(1).grid_shape({4, 3, 2}));
  auto cube = grid_coordinates({4, 3, 2}, {0, 0, 0}, {1, 1, 1}).unsqueeze(0);
  REQUIRE(volume->forward(cube, torch::randn({2, 24, 1}), {}).sizes() == torch::IntArrayRef{2, 24, 1});
  // The convolution couples grid neighbours: a unit input at grid point (i, j) = (2, 1) of a 5 x 4 grid (x fastest)
  // reaches exactly the points with |i' - 2| <= 1 and |j' - 1| <= 1.
  GridConv conv(GridConvOptions(1, 1, {5, 4}));
  auto impulse = torch::zeros({1, 20, 1});
  impulse.index_put_({0, 1 * 5 + 2, 0}, 1.0);
  auto reached = (conv->forward(impulse) - conv->forward(torch::zeros({1, 20, 1}))).abs().squeeze() > 0;
  for (int64_t j = 0; j < 4; ++j)
    for (int64_t i = 0; i < 5; ++i)
      REQUIRE(reached[j * 5 + i].item<bool>() == (std::abs(i - 2) <= 1 && std::abs(j - 1) <= 1));
  // clone() copies the weights into an independent module.
  auto copy = std::dynamic_pointer_cast<TransolverImpl>(plane->clone());
  auto fields = torch::randn({2, 35, 2});
  REQUIRE(torch::equal(copy->forward(coords, fields, {}), plane->forward(coords, fields, {})));
}

TEST_CASE("Transolver and hybrid: default options and clone", "[transolver]") {
  torch::manual_seed(8);
  Transolver defaults(TransolverOptions(2, 1));  // width 128, 8 layers, 8 heads, 64 slices
  REQUIRE(defaults->blocks->size() == 8);
  REQUIRE(defaults->forward(torch::rand({2, 10, 2}), {}, {}).sizes() == torch::IntArrayRef{2, 10, 1});
  Hybrid hybrid(HybridOptions(tiny(3, 3).params(2), 1).basis(4).branch_hidden({8}).trunk_hidden({8}));
  Extras extras = with_params(torch::randn({2, 2}));
  extras.times = torch::rand({2, 7});
  auto coords = torch::rand({2, 15, 3});
  auto out = hybrid->forward_with_history(coords, {}, extras);
  REQUIRE(out.field.sizes() == torch::IntArrayRef{2, 15, 3});
  REQUIRE(out.history.sizes() == torch::IntArrayRef{2, 7, 1});
  REQUIRE(torch::equal(hybrid->forward(coords, {}, extras), out.field));
  auto copy = std::dynamic_pointer_cast<HybridImpl>(hybrid->clone());
  REQUIRE(torch::equal(copy->forward_with_history(coords, {}, extras).history, out.history));
  REQUIRE_THROWS_WITH(hybrid->forward_with_history(coords, {}, with_params(extras.params)), Catch::Contains("times"));
}

TEST_CASE("transolver and hybrid surrogates save and load with identical outputs", "[transolver]") {
  const auto dir = physis::test::scratch("transolver");
  auto round_trip = [&](const std::string& yaml, const Dataset& data) {
    std::filesystem::remove_all(dir);
    torch::manual_seed(5);
    Surrogate s(model_yaml(yaml), OperatorShape::of(data), {});
    s.fit_normalizers(data);
    s.save(dir);
    auto again = Surrogate::load(dir);
    const auto batch = data.all();
    REQUIRE(torch::equal(again->predict(batch), s.predict(batch)));
    return std::make_pair(again->forward_normalized_with_history(batch), s.forward_normalized_with_history(batch));
  };
  auto grid = grid_data({6, 4}, 3);
  round_trip("type: transolver\nwidth: 8\nlayers: 1\nheads: 2\nslices: 4\nunified_pos: true\n", grid);
  auto designs = design_data(5, 6);
  round_trip("type: transolver\nwidth: 8\nlayers: 2\nheads: 2\nslices: 4\nvariant: unstructured\n", designs);
  auto [loaded, original] =
      round_trip("type: hybrid\nwidth: 8\nlayers: 1\nheads: 2\nslices: 4\nbasis: 4\nbranch_hidden: [8]\n"
                 "trunk_hidden: [8]\n",
                 designs);
  REQUIRE(loaded.history.sizes() == torch::IntArrayRef{5, 10, 1});
  REQUIRE(torch::equal(loaded.history, original.history));
  std::filesystem::remove_all(dir);

  REQUIRE_THROWS_WITH(Surrogate(model_yaml("type: transolver\nvariant: structured\n"), OperatorShape::of(designs), {}),
                      Catch::Contains("model.yaml:2:10") && Catch::Contains("regular 2D or 3D grid"));
  REQUIRE_THROWS_WITH(Surrogate(model_yaml("type: transolver\nwidth: 10\nheads: 4\n"), OperatorShape::of(grid), {}),
                      Catch::Contains("multiple of heads"));
  REQUIRE_THROWS_WITH(Surrogate(model_yaml("type: transolver\nslice: 4\n"), OperatorShape::of(grid), {}),
                      Catch::Contains("model.yaml:2:1") && Catch::Contains("slice"));
  REQUIRE_THROWS_WITH(Surrogate(model_yaml("type: hybrid\n"), OperatorShape::of(grid), {}),
                      Catch::Contains("time history"));
}

TEST_CASE("hybrid: the field and the history train jointly and the history metric is reported", "[transolver][train]") {
  auto rt = Runtime::create(RuntimeOptions().device("cpu").seed(0));
  auto [train, test] = design_data(48, 7).split(40);
  auto surrogate = fitted_surrogate(
      "type: hybrid\nwidth: 16\nlayers: 2\nheads: 2\nslices: 8\nbasis: 8\nbranch_hidden: [32]\ntrunk_hidden: [32]\n", train);
  auto options = OperatorTrainingOptions().epochs(160).batch_size(10).eval_every(80).progress("none");
  options.phase(PhaseOptions().optimizer("adam").lr(3e-3).schedule("cosine"));
  const auto dir = physis::test::scratch("hybrid-training");
  std::filesystem::remove_all(dir);
  OperatorTraining run(surrogate, train, test, options, rt, dir.string());
  const auto before = run.evaluate(train);
  run.trainer().run();
  const auto after = run.evaluate(train);
  INFO("field relative L2 " << before.relative_l2 << " -> " << after.relative_l2 << ", history "
                            << before.history_relative_l2 << " -> " << after.history_relative_l2);
  REQUIRE(after.has_history);
  REQUIRE(after.relative_l2 < before.relative_l2 / 10);
  REQUIRE(after.history_relative_l2 < before.history_relative_l2 / 10);
  REQUIRE(run.evaluate(test).history_relative_l2 < 0.2);
  std::ifstream history(dir / "history.csv");
  std::string header;
  std::getline(history, header);
  REQUIRE_THAT(header, Catch::Contains("history_rel_l2") && Catch::Contains("test_history_rel_l2"));
  std::filesystem::remove_all(dir);
}
