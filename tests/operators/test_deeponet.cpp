// DeepONet and MT-DeepONet: shapes, the aligned and unaligned forms, the geometry mask, save/load, and a small
// antiderivative training that must learn.
#include "core/config.h"
#include "core/runtime.h"
#include "operators/deeponet.h"
#include "operators/fisher.h"
#include "operators/operator_training.h"
#include "operators/surrogate.h"

#include "tests/operators/helpers.h"
#include "tests/scratch.h"

#include <catch2/catch.hpp>

#include <filesystem>

using namespace physis;
using namespace physis::ops;

namespace {

// u(x) = sum_k a_k sin(k pi x) + b_k cos(k pi x) on 20 sensors; s(x) = int_0^x u at 16 query points, exactly.
Dataset antiderivative_data(int64_t samples, uint64_t seed) {
  torch::manual_seed(seed);
  const int64_t modes = 3;
  auto sensors = torch::linspace(0, 1, 20).unsqueeze(1);  // [S, 1]
  auto queries = torch::linspace(0, 1, 16).unsqueeze(1);  // [N, 1]
  Dataset d;
  d.coordinate_names = {"x"};
  d.field_names = {"u"};
  d.target_names = {"s"};
  d.source = "antiderivative (test)";
  for (int64_t i = 0; i < samples; ++i) {
    auto a = torch::randn({modes}), b = torch::randn({modes});
    auto u = torch::zeros_like(sensors), s = torch::zeros_like(queries);
    for (int64_t k = 1; k <= modes; ++k) {
      const double w = k * M_PI;
      u += a[k - 1] * torch::sin(w * sensors) + b[k - 1] * torch::cos(w * sensors);
      s += a[k - 1] * (1 - torch::cos(w * queries)) / w + b[k - 1] * torch::sin(w * queries) / w;
    }
    d.samples.push_back({queries, s, u, sensors});
  }
  return d;
}

using physis::test::fitted_surrogate;
using physis::test::model_yaml;

}  // namespace

TEST_CASE("DeepONet: aligned and unaligned forms agree", "[deeponet]") {
  torch::manual_seed(1);
  DeepONet net(DeepONetOptions(20, 2).outputs(3).basis(8).branch_hidden({16}).trunk_hidden({16, 16}));
  auto fields = torch::randn({4, 20, 1});
  auto points = torch::rand({30, 2});
  auto aligned = net->forward(points.unsqueeze(0), fields, {});
  auto unaligned = net->forward(points.unsqueeze(0).expand({4, 30, 2}).contiguous(), fields, {});
  REQUIRE(aligned.sizes() == torch::IntArrayRef{4, 30, 3});
  REQUIRE(torch::allclose(aligned, unaligned, 1e-5, 1e-6));
  // A different query set per sample gives per-sample trunk outputs.
  auto other = net->forward(torch::rand({4, 30, 2}), fields, {});
  REQUIRE_FALSE(torch::allclose(other, aligned));
}

TEST_CASE("DeepONet: cnn branch on a non-square grid, params and shape errors", "[deeponet]") {
  torch::manual_seed(2);
  DeepONet net(DeepONetOptions(0, 2).branch("cnn").grid_shape({12, 9}).field_channels(2).params(3).basis(4)
                   .cnn_channels({4, 8}).branch_hidden({16}).trunk_hidden({16}));
  auto out = net->forward(torch::rand({1, 108, 2}), torch::randn({5, 108, 2}), Extras{{}, torch::randn({5, 3})});
  REQUIRE(out.sizes() == torch::IntArrayRef{5, 108, 1});
  REQUIRE_THROWS_WITH(net->forward(torch::rand({1, 108, 2}), torch::randn({5, 100, 2}), Extras{{}, torch::randn({5, 3})}),
                      Catch::Contains("expected fields [B, 108, 2]"));
  REQUIRE_THROWS_WITH(net->forward(torch::rand({1, 108, 2}), torch::randn({5, 108, 2}), {}),
                      Catch::Contains("params"));
  // clone() copies the weights into an independent module.
  auto copy = std::dynamic_pointer_cast<DeepONetImpl>(net->clone());
  auto x = torch::rand({1, 108, 2});
  auto f = torch::randn({2, 108, 2});
  auto p = torch::randn({2, 3});
  REQUIRE(torch::equal(copy->forward(x, f, Extras{{}, p}), net->forward(x, f, Extras{{}, p})));
}

TEST_CASE("normalizers round-trip and ignore masked points", "[deeponet]") {
  auto x = torch::randn({6, 50, 2}) * torch::tensor({3.0, 0.5}) + torch::tensor({10.0, -1.0});
  for (auto kind : {NormalizerKind::gaussian, NormalizerKind::minmax, NormalizerKind::none}) {
    Normalizer n(NormalizerOptions(2).kind(kind));
    n->fit(x);
    REQUIRE(torch::allclose(n->decode(n->encode(x)), x, 1e-5, 1e-5));
  }
  Normalizer g(NormalizerOptions(2));
  g->fit(x);
  auto z = g->encode(x).reshape({-1, 2});
  REQUIRE(z.mean(0).abs().max().item<double>() < 1e-5);
  REQUIRE(torch::allclose(z.std(0, /*unbiased=*/false), torch::ones({2}), 1e-4, 1e-4));
  // Points with weight 0 (outside a mask, padding) do not move the statistics.
  auto polluted = x.clone();
  auto weights = torch::ones({6, 50});
  polluted.index_put_({0, 0}, torch::tensor({1e6, 1e6}));
  weights.index_put_({0, 0}, 0);
  Normalizer m(NormalizerOptions(2).kind(NormalizerKind::minmax));
  m->fit(polluted, weights);
  REQUIRE(m->scale.max().item<double>() < 100);
  // A channel constant on the training data stays unscaled, so a new value (a one-hot column of an unseen task)
  // does not become a huge input.
  auto one_hot = torch::zeros({10, 3});
  one_hot.index_put_({torch::indexing::Slice(), 0}, 1);
  one_hot.index_put_({torch::indexing::Slice(0, 5), 1}, 1);
  for (auto kind : {NormalizerKind::gaussian, NormalizerKind::minmax}) {
    Normalizer c(NormalizerOptions(3).kind(kind));
    c->fit(one_hot);
    REQUIRE(c->scale[0].item<double>() == 1.0);
    REQUIRE(c->scale[2].item<double>() == 1.0);
    REQUIRE(c->encode(torch::tensor({{1.0, 0.0, 1.0}}))[0][2].item<double>() == 1.0);
  }
}

TEST_CASE("MT-DeepONet: predictions are exactly zero outside the geometry", "[deeponet]") {
  torch::manual_seed(3);
  Dataset d;
  const std::vector<int64_t> grid{8, 6};
  auto coords = grid_coordinates(grid, {0, 0}, {1, 1});
  for (int i = 0; i < 4; ++i) {
    auto mask = (torch::rand({48}) > 0.3).to(torch::kFloat32);
    d.samples.push_back({coords, torch::randn({48, 1}) * mask.unsqueeze(1) + 2 * mask.unsqueeze(1),
                         torch::stack({torch::randn({48}), mask}, 1), {}, torch::eye(4)[i], mask});
  }
  d.grid_shape = grid;
  d.validate();
  Surrogate s(model_yaml("type: mt-deeponet\nbasis: 4\ncnn_channels: [4]\nbranch_hidden: [8]\ntrunk_hidden: [8]\n"),
              OperatorShape::of(d), {});
  s.fit_normalizers(d);
  auto batch = d.all();
  auto out = s.predict(batch);
  auto outside = batch.mask < 0.5;
  REQUIRE(outside.any().item<bool>());
  REQUIRE(out.squeeze(-1).index({outside}).abs().max().item<double>() == 0.0);
  REQUIRE(out.squeeze(-1).index({~outside}).abs().min().item<double>() > 0.0);
}

TEST_CASE("an output factor multiplies predictions by a raw field channel and survives save and load", "[deeponet]") {
  torch::manual_seed(4);
  Dataset d;
  const std::vector<int64_t> grid{8, 6};
  auto coords = grid_coordinates(grid, {0, 0}, {1, 1});
  // A distance-like channel: zero on the grid's edge, positive inside.
  auto x = coords.select(1, 0), y = coords.select(1, 1);
  auto distance = x * (1 - x) * y * (1 - y);
  for (int i = 0; i < 4; ++i)
    d.samples.push_back({coords, (torch::randn({48}) * distance).unsqueeze(1),
                         torch::stack({torch::randn({48}), distance}, 1), {}, {}, {}});
  d.grid_shape = grid;
  d.field_names = {"a", "distance"};
  d.validate();
  const std::string plain = "type: deeponet\nbasis: 4\ncnn_channels: [4]\nbranch_hidden: [8]\ntrunk_hidden: [8]\n";
  torch::manual_seed(5);
  auto with = fitted_surrogate(plain + "output_factor: distance\n", d);
  torch::manual_seed(5);
  auto without = fitted_surrogate(plain, d);
  auto batch = d.all();
  auto out = with->predict(batch);
  auto edge = distance == 0;
  REQUIRE(edge.any().item<bool>());
  REQUIRE(out.index({torch::indexing::Slice(), edge}).abs().max().item<double>() == 0.0);
  REQUIRE(torch::allclose(out, without->predict(batch) * distance.view({1, -1, 1})));
  const auto dir = physis::test::scratch("output-factor");
  std::filesystem::remove_all(dir);
  with->save(dir);
  REQUIRE(torch::equal(Surrogate::load(dir)->predict(batch), out));
  std::filesystem::remove_all(dir);
  REQUIRE_THROWS_WITH(fitted_surrogate(plain + "output_factor: dist\n", d),
                      Catch::Contains("model.yaml:6") && Catch::Contains("a, distance"));
}

TEST_CASE("MT-DeepONet with task coefficients: an mlp branch by default when the fields are off the grid", "[deeponet]") {
  auto data = generate_fisher(FisherOptions().samples(4).points(8).solver(FisherSolverOptions().times(3).steps(4)));
  auto surrogate = fitted_surrogate("type: mt-deeponet\nbasis: 4\nbranch_hidden: [8]\ntrunk_hidden: [8]\n", data);
  auto batch = data.all();
  REQUIRE(surrogate->predict(batch).sizes() == torch::IntArrayRef({4, 24, 1}));
  // The task coefficients reach the branch: another coefficient vector gives another prediction.
  auto swapped = batch;
  swapped.params = batch.params.flip({1});
  REQUIRE_FALSE(torch::allclose(surrogate->predict(swapped), surrogate->predict(batch)));
  REQUIRE_THROWS_WITH(fitted_surrogate("type: mt-deeponet\nbranch: cnn\n", data),
                      Catch::Contains("model.yaml:2") && Catch::Contains("input fields on one 2D grid"));
}

TEST_CASE("surrogate save and load give identical outputs, bad model sections fail with a location", "[deeponet]") {
  auto d = antiderivative_data(8, 4);
  Surrogate s(model_yaml("type: deeponet\nbasis: 8\nbranch_hidden: [16]\ntrunk_hidden: [16]\nactivation: tanh\n"),
              OperatorShape::of(d), {});
  s.fit_normalizers(d);
  const auto dir = physis::test::scratch("surrogate");
  std::filesystem::remove_all(dir);
  s.save(dir);
  auto again = Surrogate::load(dir);
  auto batch = d.all();
  REQUIRE(torch::equal(again->predict(batch), s.predict(batch)));
  std::filesystem::remove_all(dir);

  REQUIRE_THROWS_WITH(Surrogate(model_yaml("type: deeponett\n"), OperatorShape::of(d), {}),
                      Catch::Contains("model.yaml:1:7") && Catch::Contains("unknown model type 'deeponett'"));
  REQUIRE_THROWS_WITH(Surrogate(model_yaml("type: deeponet\nbasiss: 3\n"), OperatorShape::of(d), {}),
                      Catch::Contains("model.yaml:2:1") && Catch::Contains("basiss"));
  REQUIRE_THROWS_WITH(Surrogate(model_yaml("type: mt-deeponet\n"), OperatorShape::of(d), {}),
                      Catch::Contains("mask"));
}

TEST_CASE("a small antiderivative operator trains to a bound", "[deeponet][train]") {
  auto rt = Runtime::create(RuntimeOptions().device("cpu").seed(0));
  auto [train, test] = antiderivative_data(300, 5).split(250);
  auto surrogate = fitted_surrogate("type: deeponet\nbasis: 32\nbranch_hidden: [64, 64]\ntrunk_hidden: [64, 64]\n", train);
  auto options = OperatorTrainingOptions().epochs(150).batch_size(25).progress("none");
  options.phase(PhaseOptions().optimizer("adam").lr(2e-3).schedule("cosine"));
  OperatorTraining run(surrogate, train, test, options, rt, "");
  const auto before = run.evaluate(test).relative_l2;
  run.trainer().run();
  const auto after = run.evaluate(test);
  INFO("relative L2 before " << before << ", after " << after.relative_l2 << ", MSE " << after.mse);
  REQUIRE(before > 0.3);
  REQUIRE(after.relative_l2 < 0.05);
}

TEST_CASE("operator training resumed from a checkpoint repeats the uninterrupted run", "[deeponet][train]") {
  auto data = antiderivative_data(40, 6);
  const auto yaml = "type: deeponet\nbasis: 8\nbranch_hidden: [16]\ntrunk_hidden: [16]\n";
  auto options = OperatorTrainingOptions().epochs(4).batch_size(8).checkpoint_every(2).progress("none");
  auto make = [&] {
    auto rt = Runtime::create(RuntimeOptions().device("cpu").seed(3));
    auto s = fitted_surrogate(yaml, data);
    return std::make_pair(s, rt);
  };
  const auto dir = physis::test::scratch("operator-resume");
  std::filesystem::remove_all(dir);
  auto [straight, rt1] = make();
  OperatorTraining(straight, data, {}, options, rt1, "").trainer().run();

  auto [first, rt2] = make();
  OperatorTraining(first, data, {}, options, rt2, dir.string()).trainer().run(2 * 5);  // stops after epoch 2
  auto [resumed, rt3] = make();
  OperatorTraining again(resumed, data, {}, options, rt3, dir.string());
  REQUIRE(again.trainer().resume());
  REQUIRE(again.trainer().step() == 10);
  again.trainer().run();
  auto batch = data.all();
  REQUIRE(torch::equal(resumed->predict(batch), straight->predict(batch)));
  std::filesystem::remove_all(dir);
}

TEST_CASE("frozen model parts do not change in training, unknown parts are an error", "[deeponet][train]") {
  auto rt = Runtime::create(RuntimeOptions().device("cpu").seed(0));
  auto data = antiderivative_data(20, 7);
  auto surrogate = fitted_surrogate("type: deeponet\nbasis: 8\nbranch_hidden: [16]\ntrunk_hidden: [16]\n", data);
  std::map<std::string, torch::Tensor> before;
  for (const auto& p : surrogate->named_parameters(true)) before[p.key()] = p.value().detach().clone();
  auto options = OperatorTrainingOptions().epochs(3).batch_size(5).progress("none").freeze({"branch"});
  OperatorTraining(surrogate, data, {}, options, rt, "").trainer().run();
  int changed = 0, kept = 0;
  for (const auto& p : surrogate->named_parameters(true)) {
    const bool same = torch::equal(p.value(), before[p.key()]);
    if (p.key().rfind("model.branch", 0) == 0) {
      REQUIRE(same);
      ++kept;
    } else if (!same) {
      ++changed;
    }
  }
  REQUIRE(kept > 0);
  REQUIRE(changed > 0);
  REQUIRE_THROWS_WITH(OperatorTraining(surrogate, data, {}, options.freeze({"brunch"}), rt, ""),
                      Catch::Contains("no parameters named 'brunch") && Catch::Contains("trunk"));
}
