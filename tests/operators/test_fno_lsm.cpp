// FNO and LSM: non-square 2D and 3D grids, the FNO spectral layer (identity when its modes cover the grid,
// translation equivariance), LSM patchify / de-patchify, save/load through the surrogate, the output mask, registry
// errors, and a small FNO training that must learn.
#include "core/config.h"
#include "core/runtime.h"
#include "operators/fno.h"
#include "operators/lsm.h"
#include "operators/operator_training.h"
#include "operators/surrogate.h"

#include "tests/operators/helpers.h"
#include "tests/scratch.h"

#include <catch2/catch.hpp>

#include <filesystem>

using namespace physis;
using namespace physis::ops;

namespace {

using physis::test::fitted_surrogate;
using physis::test::model_yaml;

// Samples on an n_x x n_y grid over the unit square: one random smooth field a (a few Fourier modes), its target
// u = a + a_x (a smooth, nonlocal-in-space map), and a random mask.
Dataset grid_data(const std::vector<int64_t>& grid, int64_t samples, uint64_t seed) {
  torch::manual_seed(seed);
  auto coords = grid_coordinates(grid, {0, 0}, {1, 1});  // [N, 2]
  const auto x = coords.select(1, 0), y = coords.select(1, 1);
  Dataset d;
  d.grid_shape = grid;
  d.coordinate_names = {"x", "y"};
  d.field_names = {"a"};
  d.target_names = {"u"};
  d.source = "grid (test)";
  for (int64_t i = 0; i < samples; ++i) {
    auto c = torch::randn({4});
    auto a = c[0] * torch::sin(2 * M_PI * x) + c[1] * torch::cos(2 * M_PI * y) + c[2] * torch::sin(2 * M_PI * (x + y)) +
             0.5 * c[3];
    auto a_x = 2 * M_PI * (c[0] * torch::cos(2 * M_PI * x) + c[2] * torch::cos(2 * M_PI * (x + y)));
    auto mask = (torch::rand({coords.size(0)}) > 0.2).to(torch::kFloat32);
    Sample s;
    s.coords = coords;
    s.targets = (a + 0.2 * a_x).unsqueeze(1);
    s.fields = a.unsqueeze(1);
    s.mask = mask;
    d.samples.push_back(s);
  }
  d.validate();
  return d;
}

// Sets a square spectral layer's weights to the identity on every kept mode (real part 1 on the channel diagonal).
void identity_weights(SpectralConv& layer) {
  torch::NoGradGuard no_grad;
  layer->weight.zero_();
  auto real = layer->weight.select(-1, 0);  // [corners, in, out, m..]
  for (int64_t i = 0; i < real.size(1); ++i) real.select(1, i).select(1, i).fill_(1);
}

std::vector<int64_t> with_batch_and_channels(int64_t batch, std::vector<int64_t> sizes, int64_t channels) {
  sizes.insert(sizes.begin(), {batch, channels});
  return sizes;
}

}  // namespace

TEST_CASE("FNO on non-square 2D and small 3D grids: output shapes, clamped modes, clone", "[fno]") {
  torch::manual_seed(1);
  FNO flat(FNOOptions({20, 12}, 2).outputs(3).width(8).modes(12).layers(2).projection_width(16).padding(3));
  // Image axes {n_y, n_x} = {12 + 3, 20 + 3}: n / 2 on the non-last axis, n / 2 + 1 on the last.
  REQUIRE(flat->spectral[0]->kept_modes == std::vector<int64_t>{7, 12});
  auto coords = grid_coordinates({20, 12}, {0, 0}, {1, 1}).unsqueeze(0);  // [1, 240, 2]
  auto fields = torch::randn({4, 240, 2});
  auto out = flat->forward(coords, fields, {});
  REQUIRE(out.sizes() == torch::IntArrayRef{4, 240, 3});
  REQUIRE(torch::allclose(flat->forward(coords.expand({4, 240, 2}), fields, {}), out));
  REQUIRE_THROWS_WITH(flat->forward(coords, torch::randn({4, 200, 2}), {}), Catch::Contains("expected fields [B, 240, 2]"));
  auto copy = std::dynamic_pointer_cast<FNOImpl>(flat->clone());
  REQUIRE(torch::equal(copy->forward(coords, fields, {}), out));

  FNO cube(FNOOptions({6, 5, 4}, 1).width(4).modes(3).layers(2).projection_width(8));
  REQUIRE(cube->spectral[0]->kept_modes == std::vector<int64_t>{2, 2, 3});
  auto out3 = cube->forward(grid_coordinates({6, 5, 4}, {0, 0, 0}, {1, 1, 1}).unsqueeze(0), torch::randn({2, 120, 1}), {});
  REQUIRE(out3.sizes() == torch::IntArrayRef{2, 120, 1});
}

TEST_CASE("FNO spectral layer with modes covering the grid and identity weights reproduces its input", "[fno]") {
  for (const auto& sizes : {std::vector<int64_t>{12, 20}, std::vector<int64_t>{4, 6, 8}}) {
    auto x = torch::randn(with_batch_and_channels(2, sizes, 3), torch::kFloat64);
    SpectralConv full(SpectralConvOptions(3, 3, sizes).modes(100));
    identity_weights(full);
    full->to(torch::kFloat64);
    REQUIRE(torch::allclose(full->forward(x), x, 1e-10, 1e-10));
    // Negative control: fewer modes than the grid holds drop the high frequencies.
    SpectralConv truncated(SpectralConvOptions(3, 3, sizes).modes(2));
    identity_weights(truncated);
    truncated->to(torch::kFloat64);
    REQUIRE((truncated->forward(x) - x).abs().max().item<double>() > 0.1);
  }
}

TEST_CASE("FNO spectral layer is translation-equivariant on a periodic grid", "[fno]") {
  torch::manual_seed(2);
  for (const auto& sizes : {std::vector<int64_t>{12, 20}, std::vector<int64_t>{5, 6, 8}}) {
    SpectralConv layer(SpectralConvOptions(3, 4, sizes).modes(3));
    layer->to(torch::kFloat64);
    auto x = torch::randn(with_batch_and_channels(2, sizes, 3), torch::kFloat64);
    const auto d = static_cast<int64_t>(sizes.size());
    std::vector<int64_t> shifts, dims;
    for (int64_t i = 0; i < d; ++i) {
      shifts.push_back(i + 2);
      dims.push_back(i + 2);
    }
    auto shifted_then_layer = layer->forward(torch::roll(x, shifts, dims));
    auto layer_then_shifted = torch::roll(layer->forward(x), shifts, dims);
    REQUIRE(torch::allclose(shifted_then_layer, layer_then_shifted, 1e-10, 1e-10));
    // Negative control: the output does change under the shift.
    REQUIRE_FALSE(torch::allclose(shifted_then_layer, layer->forward(x), 1e-3, 1e-3));
  }
}

TEST_CASE("LSM patchify followed by de-patchify is the identity", "[lsm]") {
  auto image = torch::randn({2, 5, 6, 9});  // [B, C, n_1, n_2]
  auto patches = patchify(image, 3);
  REQUIRE(patches.sizes() == torch::IntArrayRef{12, 5, 3, 3});
  // Patches are ordered by sample, then row-major over the patch grid.
  using torch::indexing::Slice;
  REQUIRE(torch::equal(patches[1], image.index({0, Slice(), Slice(0, 3), Slice(3, 6)})));
  REQUIRE(torch::equal(patches[6], image.index({1, Slice(), Slice(0, 3), Slice(0, 3)})));
  REQUIRE(torch::equal(depatchify(patches, {6, 9}, 3), image));
  auto volume = torch::randn({2, 3, 4, 6, 2});
  REQUIRE(torch::equal(depatchify(patchify(volume, 2), {4, 6, 2}, 2), volume));
  REQUIRE_THROWS_WITH(patchify(image, 4), Catch::Contains("not a multiple of 4"));
}

TEST_CASE("LSM on non-square 2D and small 3D grids: output shapes, padding, clone", "[lsm]") {
  torch::manual_seed(3);
  // The defaults pad 85 x 64 to multiples of 2^4 * 3 = 48.
  REQUIRE(LSM(LSMOptions({85, 64}, 1))->padded_sizes() == std::vector<int64_t>{96, 96});
  LSM flat(LSMOptions({20, 12}, 2).outputs(3).width(8).heads(2).levels(2).patch_size(2).tokens(2).bases(4)
               .projection_width(16));
  REQUIRE(flat->padded_sizes() == std::vector<int64_t>{16, 24});
  flat->eval();
  auto coords = grid_coordinates({20, 12}, {0, 0}, {1, 1}).unsqueeze(0);
  auto fields = torch::randn({3, 240, 2});
  auto out = flat->forward(coords, fields, {});
  REQUIRE(out.sizes() == torch::IntArrayRef{3, 240, 3});
  REQUIRE(torch::isfinite(out).all().item<bool>());
  // Samples are independent in evaluation mode (batch norm uses its running statistics).
  REQUIRE(torch::allclose(flat->forward(coords, fields.narrow(0, 1, 1), {}), out.narrow(0, 1, 1), 1e-5, 1e-6));
  auto copy = std::dynamic_pointer_cast<LSMImpl>(flat->clone());
  REQUIRE(torch::equal(copy->forward(coords, fields, {}), out));
  REQUIRE_THROWS_WITH(flat->forward(coords, torch::randn({3, 240, 1}), {}), Catch::Contains("expected fields [B, 240, 2]"));

  LSM cube(LSMOptions({6, 5, 4}, 1).width(4).heads(2).levels(1).patch_size(2).tokens(2).bases(3).projection_width(8));
  REQUIRE(cube->padded_sizes() == std::vector<int64_t>{4, 8, 8});
  auto out3 = cube->forward(grid_coordinates({6, 5, 4}, {0, 0, 0}, {1, 1, 1}).unsqueeze(0), torch::randn({2, 120, 1}), {});
  REQUIRE(out3.sizes() == torch::IntArrayRef{2, 120, 1});
}

TEST_CASE("FNO and LSM surrogates save and load with identical outputs, the mask zeroes the outside", "[fno][lsm]") {
  auto data = grid_data({10, 7}, 6, 4);
  const std::vector<std::string> models{
      "type: fno\nwidth: 6\nmodes: 3\nlayers: 2\nprojection_width: 8\npadding: 2\nmask_output: true\n",
      "type: lsm\nwidth: 4\nheads: 2\nlevels: 1\npatch_size: 2\ntokens: 2\nbases: 3\nprojection_width: 8\n"
      "mask_output: true\n"};
  for (const auto& yaml : models) {
    torch::manual_seed(5);
    Surrogate s(model_yaml(yaml), OperatorShape::of(data), {});
    s.fit_normalizers(data);
    const auto dir = physis::test::scratch("fno-lsm-surrogate");
    std::filesystem::remove_all(dir);
    s.save(dir);
    auto again = Surrogate::load(dir);
    std::filesystem::remove_all(dir);
    auto batch = data.all();
    s.eval();
    again->eval();
    auto out = s.predict(batch);
    REQUIRE(torch::equal(again->predict(batch), out));
    auto outside = batch.mask < 0.5;
    REQUIRE(out.squeeze(-1).index({outside}).abs().max().item<double>() == 0.0);
    REQUIRE(out.squeeze(-1).index({~outside}).abs().min().item<double>() > 0.0);
  }
}

TEST_CASE("fno and lsm model sections: unknown keys and data off one grid fail with a location", "[fno][lsm]") {
  auto grid = grid_data({8, 6}, 2, 6);
  REQUIRE_THROWS_WITH(Surrogate(model_yaml("type: fno\nwidht: 4\n"), OperatorShape::of(grid), {}),
                      Catch::Contains("model.yaml:2:1") && Catch::Contains("widht"));
  REQUIRE_THROWS_WITH(Surrogate(model_yaml("type: lsm\nbasis: 4\n"), OperatorShape::of(grid), {}),
                      Catch::Contains("model.yaml:2:1") && Catch::Contains("basis"));
  REQUIRE_THROWS_WITH(Surrogate(model_yaml("type: lsm\nwidth: 12\n"), OperatorShape::of(grid), {}),
                      Catch::Contains("model.yaml:2:8") && Catch::Contains("multiple of heads"));
  // The same points without their grid: a point cloud.
  auto cloud = grid;
  cloud.grid_shape.clear();
  for (const char* type : {"fno", "lsm"})
    REQUIRE_THROWS_WITH(Surrogate(model_yaml(std::string("type: ") + type + "\n"), OperatorShape::of(cloud), {}),
                        Catch::Contains("model.yaml:1:7") && Catch::Contains("regular 2D or 3D grid"));
  // Fields at sensors of their own, not on the grid points.
  auto sensors = grid;
  for (auto& s : sensors.samples) {
    s.fields = s.fields.narrow(0, 0, 10);
    s.field_coords = s.coords.narrow(0, 0, 10);
  }
  REQUIRE_THROWS_WITH(Surrogate(model_yaml("type: fno\n"), OperatorShape::of(sensors), {}),
                      Catch::Contains("model.yaml:1:7") && Catch::Contains("no separate sensors"));
  REQUIRE_THROWS_WITH(Surrogate(model_yaml("type: fno\nmask_output: true\n"), OperatorShape::of(cloud), {}),
                      Catch::Contains("grid"));
}

TEST_CASE("a small FNO learns a smooth 2D operator", "[fno][train]") {
  auto rt = Runtime::create(RuntimeOptions().device("cpu").seed(0));
  auto [train, test] = grid_data({16, 16}, 60, 7).split(50);
  auto surrogate = fitted_surrogate("type: fno\nwidth: 8\nmodes: 4\nlayers: 2\nprojection_width: 16\n", train);
  auto options = OperatorTrainingOptions().epochs(60).batch_size(10).progress("none");
  options.phase(PhaseOptions().optimizer("adam").lr(1e-2).schedule("cosine"));
  OperatorTraining run(surrogate, train, test, options, rt, "");
  const auto before = run.evaluate(test).relative_l2;
  run.trainer().run();
  const auto after = run.evaluate(test).relative_l2;
  INFO("relative L2 before " << before << ", after " << after);
  REQUIRE(after < before / 10);
}
