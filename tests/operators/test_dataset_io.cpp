// Datasets from files: physis's layout round trips, assemble() of grids and point clouds, .vtu collections, and the
// YAML data: section with its errors.
#include "tests/scratch.h"

#include <catch2/catch.hpp>

#include "core/build_config.h"
#include "core/config.h"
#include "geometry/vtk_io.h"
#include "operators/dataset_io.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>

using namespace physis::ops;
namespace fs = std::filesystem;
using Catch::Matchers::Contains;
using physis::config::ConfigError;
using physis::config::Section;

namespace {

using physis::test::scratch;

fs::path fixture(const std::string& name) { return fs::path(PHYSIS_TEST_DATA_DIR) / "operators" / name; }

void require_same_tensor(const torch::Tensor& a, const torch::Tensor& b) {
  REQUIRE(a.defined() == b.defined());
  if (!a.defined()) return;
  INFO("got " << a.sizes() << ", expected " << b.sizes());
  REQUIRE(a.scalar_type() == b.scalar_type());
  REQUIRE(torch::equal(a, b));
}

void require_same(const Dataset& a, const Dataset& b) {
  REQUIRE(a.size() == b.size());
  REQUIRE(a.grid_shape == b.grid_shape);
  REQUIRE(a.coordinate_names == b.coordinate_names);
  REQUIRE(a.field_names == b.field_names);
  REQUIRE(a.target_names == b.target_names);
  REQUIRE(a.param_names == b.param_names);
  REQUIRE(a.history_names == b.history_names);
  for (int64_t i = 0; i < a.size(); ++i) {
    const Sample &x = a.samples[i], &y = b.samples[i];
    for (auto member : {&Sample::coords, &Sample::targets, &Sample::fields, &Sample::field_coords, &Sample::params,
                        &Sample::mask, &Sample::times, &Sample::history})
      require_same_tensor(x.*member, y.*member);
  }
}

// Three samples on one 3 x 2 grid with every optional member.
Dataset aligned_dataset() {
  torch::manual_seed(1);
  Dataset data;
  data.grid_shape = {3, 2};
  data.coordinate_names = {"x", "y"};
  data.target_names = {"u", "v"};
  data.field_names = {"k"};
  data.param_names = {"load", "width"};
  data.history_names = {"force"};
  const auto coords = grid_coordinates({3, 2}, {0, 0}, {1, 1});
  for (int i = 0; i < 3; ++i) {
    Sample s;
    s.coords = coords;
    s.targets = torch::randn({6, 2});
    s.fields = torch::randn({6, 1});
    s.params = torch::randn({2});
    s.mask = torch::tensor({1.f, 1.f, 0.f, 1.f, 1.f, 1.f});
    s.times = torch::linspace(0, 1, 4);
    s.history = torch::randn({4, 1});
    data.samples.push_back(s);
  }
  return data;
}

// Two point clouds of different sizes with their own sensors.
Dataset ragged_dataset() {
  torch::manual_seed(2);
  Dataset data;
  data.target_names = {"s"};
  for (int n : {4, 7}) {
    Sample s;
    s.coords = torch::rand({n, 3});
    s.targets = torch::randn({n, 1});
    s.fields = torch::randn({5, 2});
    s.field_coords = torch::rand({5, 3});
    data.samples.push_back(s);
  }
  return data;
}

VtuCollectionSpec vtu_spec(std::vector<std::string> targets, std::vector<std::string> fields = {},
                           int64_t dimension = 3, std::string file_column = "file") {
  VtuCollectionSpec spec;
  spec.targets = std::move(targets);
  spec.fields = std::move(fields);
  spec.dimension = dimension;
  spec.file_column = std::move(file_column);
  return spec;
}

std::vector<fs::path> dataset_paths(const std::string& stem) {
  std::vector<fs::path> out = {scratch(stem + ".pt")};
  if (PHYSIS_HAVE_HDF5) out.push_back(scratch(stem + ".h5"));
  return out;
}

}  // namespace

TEST_CASE("physis datasets round trip exactly, aligned and ragged", "[io][dataset_io]") {
  for (const auto& path : dataset_paths("aligned")) {
    INFO(path);
    const Dataset data = aligned_dataset();
    write_dataset(data, path);
    REQUIRE(is_physis_dataset(path));
    const Dataset back = read_dataset(path);
    require_same(back, data);
    REQUIRE(back.source == path.string());
    const auto raw = read_arrays(path);  // coords once, the rest stacked
    REQUIRE(raw.at("coords").sizes() == torch::IntArrayRef({6, 2}));
    REQUIRE(raw.at("targets").sizes() == torch::IntArrayRef({3, 6, 2}));
    REQUIRE(raw.at("history").sizes() == torch::IntArrayRef({3, 4, 1}));
    REQUIRE(raw.count("field_coords") == 0);
  }
  for (const auto& path : dataset_paths("ragged")) {
    INFO(path);
    const Dataset data = ragged_dataset();
    write_dataset(data, path);
    require_same(read_dataset(path), data);
    const auto raw = read_arrays(path);
    REQUIRE(raw.at("samples/000001/coords").sizes() == torch::IntArrayRef({7, 3}));
    REQUIRE(raw.count("samples/000000/params") == 0);
  }
  Dataset flat = ragged_dataset();
  flat.samples[1].field_coords = torch::rand({5, 2});  // sensors of another dimension than the query points
  REQUIRE_THROWS_WITH(flat.validate(), Contains("field_coords [5, 2]") && Contains("with the d of coords [7, 3]"));
  REQUIRE_THROWS_WITH(write_dataset(aligned_dataset(), scratch("data.csv")), Contains(".h5/.hdf5 or .pt/.pth"));
  REQUIRE_THROWS_WITH(read_dataset(fixture("tensors.pt")), Contains("not a physis dataset"));
}

TEST_CASE("assemble flattens grid arrays x fastest, with stride, axis and limit", "[io][dataset_io]") {
  // u[b, iy, ix] = 1000 b + 10 iy + ix on a 5 (y) x 9 (x) grid
  auto b = torch::arange(3).view({3, 1, 1}), iy = torch::arange(5).view({1, 5, 1}), ix = torch::arange(9).view({1, 1, 9});
  const auto u = (1000 * b + 10 * iy + ix).to(torch::kFloat64);
  LayoutSpec spec;
  spec.targets = {"u"};
  spec.stride = {2, 3};  // y: 0, 2, 4 of 5; x: 0, 3, 6 of 9
  const Dataset data = assemble({{"u", u}}, spec, "grid");
  REQUIRE(data.size() == 3);
  REQUIRE(data.grid_shape == std::vector<int64_t>{3, 3});
  REQUIRE(data.coordinate_names == std::vector<std::string>{"x", "y"});
  REQUIRE(data.target_names == std::vector<std::string>{"u"});
  const Sample& s = data.samples[1];
  REQUIRE(s.targets.sizes() == torch::IntArrayRef({9, 1}));
  for (int64_t jy = 0; jy < 3; ++jy)
    for (int64_t jx = 0; jx < 3; ++jx) {
      const int64_t p = jy * 3 + jx;  // x fastest
      REQUIRE(s.targets[p][0].item<float>() == 1000 + 10 * (2 * jy) + 3 * jx);
      REQUIRE(s.coords[p][0].item<float>() == Approx(3.0 * jx / 8));  // x of the full 9-point grid on [0, 1]
      REQUIRE(s.coords[p][1].item<float>() == Approx(2.0 * jy / 4));
    }
  data.validate();

  // the same data with channels last, samples last, bounds, and a limit
  LayoutSpec moved = spec;
  moved.sample_axis = 3;
  moved.spatial_dims = 2;
  moved.limit = 2;
  moved.grid_lower = {-1, 0};
  moved.grid_upper = {1, 4};
  const auto channels = torch::stack({u, -u}, 3).permute({1, 2, 3, 0});  // [5, 9, 2, 3]
  const Dataset other = assemble({{"u", channels}}, moved, "moved");
  REQUIRE(other.size() == 2);
  REQUIRE(other.target_names == std::vector<std::string>{"u[0]", "u[1]"});
  require_same_tensor(other.samples[1].targets.select(1, 0), s.targets.select(1, 0));
  require_same_tensor(other.samples[1].targets.select(1, 1), -s.targets.select(1, 0));
  REQUIRE(other.samples[0].coords[8][0].item<float>() == Approx(-1 + 2 * 6.0 / 8));
  REQUIRE(other.samples[0].coords[8][1].item<float>() == Approx(4));

  // FNO-style: the field and the target on one grid, every 2nd point of a 5 x 5 grid -> 3 x 3 on [0, 1]^2
  LayoutSpec fno;
  fno.fields = {"coeff"};
  fno.targets = {"sol"};
  fno.stride = {2};
  const auto grid = torch::rand({4, 5, 5});
  const Dataset darcy = assemble({{"coeff", grid}, {"sol", 2 * grid}}, fno, "darcy");
  require_same_tensor(darcy.samples[3].fields.view({3, 3}), grid[3].slice(0, 0, {}, 2).slice(1, 0, {}, 2));
  REQUIRE(darcy.samples[3].coords[8][0].item<float>() == 1.0f);
}

TEST_CASE("assemble point clouds with coords, sensors, params and mask", "[io][dataset_io]") {
  const ArrayMap arrays = {{"xy", torch::rand({4, 6, 2})},     {"stress", torch::randn({4, 6})},
                           {"load", torch::randn({4, 5, 1})},  {"at", torch::rand({5, 2})},
                           {"E", torch::rand({4})},            {"dims", torch::rand({4, 2})},
                           {"inside", torch::ones({4, 6})}};
  LayoutSpec spec;
  spec.coords = "xy";
  spec.targets = {"stress"};
  spec.fields = {"load"};
  spec.sensors = "at";
  spec.params = {"E", "dims"};
  spec.mask = "inside";
  const Dataset data = assemble(arrays, spec, "cloud");
  data.validate();
  REQUIRE(data.param_names == std::vector<std::string>{"E", "dims[0]", "dims[1]"});
  require_same_tensor(data.samples[2].coords, arrays.at("xy")[2]);
  require_same_tensor(data.samples[2].targets, arrays.at("stress")[2].unsqueeze(1));
  require_same_tensor(data.samples[2].field_coords, arrays.at("at"));
  require_same_tensor(data.samples[2].params, torch::cat({arrays.at("E")[2].view({1}), arrays.at("dims")[2]}));
  REQUIRE(data.samples[2].mask.sizes() == torch::IntArrayRef({6}));
  REQUIRE_FALSE(data.aligned());
}

TEST_CASE("assemble names the array whose shape does not fit", "[io][dataset_io]") {
  LayoutSpec spec;
  spec.coords = "xy";
  spec.targets = {"u"};
  REQUIRE_THROWS_WITH(assemble({{"xy", torch::rand({6, 2})}, {"u", torch::rand({3, 7})}}, spec, "bad.npz"),
                      Contains("bad.npz") && Contains("'u' [3, 7] does not hold 6 points"));
  spec.fields = {"k"};
  REQUIRE_THROWS_WITH(assemble({{"xy", torch::rand({6, 2})}, {"u", torch::rand({3, 6})}, {"k", torch::rand({4, 6})}},
                               spec, "bad.npz"),
                      Contains("'k' has 4 samples along axis 0, 'u' has 3"));
  REQUIRE_THROWS_WITH(assemble({{"xy", torch::rand({6, 2})}}, spec, "bad.npz"), Contains("no array 'u'; available: xy"));
  LayoutSpec grid;
  grid.targets = {"u"};
  grid.fields = {"k"};
  REQUIRE_THROWS_WITH(assemble({{"u", torch::rand({2, 4, 4})}, {"k", torch::rand({2, 4, 5})}}, grid, "g"),
                      Contains("'k' [2, 4, 5] is not on the grid of 'u' [2, 4, 4]"));
}

TEST_CASE("a csv of .vtu files becomes one sample per design", "[io][dataset_io]") {
  const auto dir = scratch("designs");
  fs::create_directories(dir / "meshes");
  std::ofstream csv(dir / "designs.csv");
  csv << "file,thickness,load\n";
  if (!PHYSIS_HAVE_VTK) {
    csv << "meshes/design0.vtu,1,2\n";
    csv.close();
    REQUIRE_THROWS_WITH(read_vtu_collection(dir / "designs.csv", vtu_spec({"u"})), Contains("without VTK"));
    WARN("SKIPPED: this build lacks VTK");
    return;
  }
  std::vector<torch::Tensor> points, stress;
  for (int d = 0; d < 3; ++d) {
    points.push_back(torch::rand({5 + d, 2}, torch::kFloat64));
    stress.push_back(torch::randn({5 + d, 3}, torch::kFloat64));
    const std::string name = "meshes/design" + std::to_string(d) + ".vtu";
    physis::geometry::write_vtu((dir / name).string(), points.back(),
                                {{"stress", stress.back()}, {"T", points.back().select(1, 0)}});
    csv << name << "," << 0.1 * (d + 1) << "," << 10 * d << "\n";
  }
  csv.close();
  const Dataset data = read_vtu_collection(dir / "designs.csv", vtu_spec({"stress"}, {"T"}, 2));
  data.validate();
  REQUIRE(data.size() == 3);
  REQUIRE(data.target_names == std::vector<std::string>{"stress[0]", "stress[1]", "stress[2]"});
  REQUIRE(data.param_names == std::vector<std::string>{"thickness", "load"});
  require_same_tensor(data.samples[2].coords, points[2].to(torch::kFloat));
  require_same_tensor(data.samples[2].targets, stress[2].to(torch::kFloat));
  REQUIRE(data.samples[2].params[0].item<float>() == Approx(0.3));
  REQUIRE(read_vtu_collection(dir / "designs.csv", vtu_spec({"T"})).coordinate_dim() == 3);
  REQUIRE_THROWS_WITH(read_vtu_collection(dir / "designs.csv", vtu_spec({"strain"})),
                      Contains("no point array 'strain'") && Contains("stress"));
  REQUIRE_THROWS_WITH(read_vtu_collection(dir / "designs.csv", vtu_spec({"T"}, {}, 3, "mesh")),
                      Contains("no column 'mesh'; its columns: file, thickness, load"));
}

TEST_CASE("load_dataset reads a data: section", "[io][dataset_io]") {
  const auto grid = torch::rand({3, 5, 5});
  write_pt(scratch("darcy.pt"), {{"coeff", grid}, {"sol", 2 * grid}});
  auto yaml = [](const std::string& body) { return Section::load_string(body, "problem.yaml").child("data"); };
  const std::string file = "data:\n  file: " + scratch("darcy.pt").string() + "\n";

  const Dataset darcy = load_dataset(yaml(file + "  fields: coeff\n  targets: [sol]\n  stride: 2\n  limit: 2\n"));
  REQUIRE(darcy.size() == 2);
  REQUIRE(darcy.grid_shape == std::vector<int64_t>{3, 3});
  REQUIRE(darcy.source == scratch("darcy.pt").string());
  const Dataset wide = load_dataset(yaml(file + "  targets: sol\n  grid_bounds: [[0, 2], [-1, 1]]\n"));
  REQUIRE(wide.samples[0].coords[24][0].item<float>() == 2.0f);  // the last point: x = 2, y = 1
  REQUIRE(wide.samples[0].coords[24][1].item<float>() == 1.0f);
  REQUIRE(wide.samples[0].coords[1][0].item<float>() == 0.5f);   // x varies fastest

  write_dataset(darcy, scratch("darcy85.pt"));  // a physis dataset needs no layout keys
  require_same(load_dataset(yaml("data:\n  file: " + scratch("darcy85.pt").string() + "\n")), darcy);

  if (PHYSIS_HAVE_MATIO) {  // MATLAB [2, 3, 4]: two samples on a 3 (y) x 4 (x) grid, x fastest
    const Dataset mat = load_dataset(yaml("data:\n  file: " + fixture("v5.mat").string() + "\n  targets: coeff\n"));
    REQUIRE(mat.grid_shape == std::vector<int64_t>{4, 3});
    REQUIRE(mat.samples[1].targets[6][0].item<float>() == 100 + 10 * 1 + 2);
  }
}

TEST_CASE("drop leaves optional parts of every sample out of a loaded dataset", "[io][dataset_io]") {
  auto yaml = [](const std::string& body) { return Section::load_string(body, "problem.yaml").child("data"); };
  const Dataset full = aligned_dataset();
  write_dataset(full, scratch("drop.pt"));
  const std::string file = "data:\n  file: " + scratch("drop.pt").string() + "\n";
  const Dataset kept = load_dataset(yaml(file));
  REQUIRE(kept.param_count() == 2);
  const Dataset dropped = load_dataset(yaml(file + "  drop: [params, history]\n"));
  REQUIRE(dropped.param_count() == 0);
  REQUIRE(dropped.param_names.empty());
  REQUIRE_FALSE(dropped.samples[0].history.defined());
  REQUIRE(dropped.samples[0].mask.defined());
  REQUIRE(torch::equal(dropped.samples[2].targets, full.samples[2].targets));
  REQUIRE_FALSE(load_dataset(yaml(file + "  drop: mask\n")).samples[1].mask.defined());
  REQUIRE_THROWS_WITH(load_dataset(yaml(file + "  drop: [coords]\n")),
                      Contains("problem.yaml:3:9") && Contains("drop takes params, mask and history"));
}

TEST_CASE("load_dataset errors carry the YAML location or name the data problem", "[io][dataset_io]") {
  auto yaml = [](const std::string& body) { return Section::load_string(body, "problem.yaml").child("data"); };
  auto bad = torch::rand({2, 4, 4});
  bad[1][2][3] = NAN;
  write_pt(scratch("nan.pt"), {{"u", bad}});
  const std::string file = "data:\n  file: " + scratch("nan.pt").string() + "\n";
  REQUIRE_THROWS_WITH(load_dataset(yaml(file + "  targets: u\n  strde: 2\n")),
                      Contains("problem.yaml:4:3") && Contains("unknown key 'data.strde'"));
  REQUIRE_THROWS_AS(load_dataset(yaml(file + "  targets: u\n  stride: two\n")), ConfigError);
  REQUIRE_THROWS_WITH(load_dataset(yaml(file + "  targets: u\n")),
                      Contains("problem.yaml:2:9") && Contains("sample 1: contains NaN or Inf"));
  REQUIRE_THROWS_WITH(load_dataset(yaml(file + "  targets: [v]\n")), Contains("no array 'v'") && Contains("u"));
  REQUIRE_THROWS_WITH(load_dataset(yaml(file)), Contains("not a physis dataset"));
  REQUIRE_THROWS_WITH(load_dataset(yaml("data:\n  file: missing.h5\n  targets: u\n")),
                      Contains("problem.yaml:2:9") && Contains("does not exist"));
  REQUIRE_THROWS_WITH(load_dataset(yaml(file + "  targets: u\n  dimension: 2\n")),
                      Contains("applies to a csv of .vtu files"));
  REQUIRE_THROWS_WITH(load_dataset(yaml(file + "  format: parquet\n  targets: u\n")), Contains("unknown format"));
}

TEST_CASE("a csv of .vtu files reads a history CSV per design", "[io][dataset_io]") {
  if (!PHYSIS_HAVE_VTK) {
    WARN("SKIPPED: this build lacks VTK");
    return;
  }
  const auto dir = scratch("histories");
  fs::create_directories(dir);
  std::ofstream csv(dir / "designs.csv");
  csv << "file,history,height\n";
  for (int d = 0; d < 2; ++d) {
    const std::string name = "design" + std::to_string(d);
    physis::geometry::write_vtu((dir / (name + ".vtu")).string(), torch::rand({4, 2}, torch::kFloat64),
                                {{"u", torch::rand({4}, torch::kFloat64)}});
    std::ofstream(dir / (name + ".csv")) << "load_fraction,force,energy\n0.5," << d << ",1\n1," << 2 * d << ",4\n";
    csv << name << ".vtu," << name << ".csv," << 60 + d << "\n";
  }
  csv.close();
  const Dataset data = read_vtu_collection(dir / "designs.csv", vtu_spec({"u"}, {}, 2));
  data.validate();
  REQUIRE(data.param_names == std::vector<std::string>{"height"});  // the history column is no parameter
  REQUIRE(data.history_names == std::vector<std::string>{"force", "energy"});
  require_same_tensor(data.samples[1].times, torch::tensor({0.5f, 1.0f}));
  require_same_tensor(data.samples[1].history, torch::tensor({1.0f, 1.0f, 2.0f, 4.0f}).reshape({2, 2}));

  std::ofstream(dir / "design1.csv") << "load_fraction,force,energy\n0.5,1,1\n1,oops,4\n";
  REQUIRE_THROWS_WITH(read_vtu_collection(dir / "designs.csv", vtu_spec({"u"}, {}, 2)),
                      Contains("designs.csv") && Contains("design1.csv' line 3 holds 'oops'"));
}
