// Field output: evaluation grids (order, spacing, masking by the geometry), CSV tables, VTK files read back, time
// series with a .pvd, and PNG images when gnuplot is installed.
#include "pinn/field_output.h"

#include "core/build_config.h"
#include "geometry/ball.h"
#include "geometry/box.h"
#include "geometry/csg.h"
#include "pinn/plots.h"
#include "pinn/reference.h"

#include <catch2/catch.hpp>

#include <unistd.h>

#include <cmath>
#include <numbers>
#include <filesystem>
#include <fstream>
#include <sstream>

using physis::pinn::EvaluationGrid;
using physis::pinn::FieldSet;
namespace fs = std::filesystem;

namespace {

// A folder of this process's files, removed when the test program ends.
struct ScratchFolder {
  fs::path path = fs::temp_directory_path() / ("physis-test-fields-" + std::to_string(::getpid()));
  ~ScratchFolder() {
    std::error_code ignored;
    fs::remove_all(path, ignored);
  }
};

fs::path fresh_dir(const std::string& name) {
  static const ScratchFolder folder;
  const auto dir = folder.path / name;
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

std::string read_text(const fs::path& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

std::vector<std::string> lines_of(const fs::path& path) {
  std::ifstream in(path);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

bool no_temporary_files(const fs::path& dir) {
  for (const auto& entry : fs::recursive_directory_iterator(dir))
    if (entry.path().filename().string().find(".tmp.") != std::string::npos) return false;
  return true;
}

bool is_png(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  char magic[8] = {};
  in.read(magic, 8);
  return in && std::string(magic + 1, 3) == "PNG" && fs::file_size(path) > 1000;
}

// Width and height from a PNG's header (IHDR: big-endian at bytes 16 and 20).
std::pair<uint32_t, uint32_t> png_size(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  unsigned char header[24] = {};
  in.read(reinterpret_cast<char*>(header), 24);
  auto word = [&](int at) {
    return (uint32_t{header[at]} << 24) | (uint32_t{header[at + 1]} << 16) | (uint32_t{header[at + 2]} << 8) |
           uint32_t{header[at + 3]};
  };
  return {word(16), word(20)};
}

physis::geometry::GeometryPtr square_with_hole() {
  auto square = std::make_shared<physis::geometry::Box>(std::vector<double>{-1, -1}, std::vector<double>{1, 1});
  auto hole = std::make_shared<physis::geometry::Ball>(std::vector<double>{0, 0}, 0.4);
  return physis::geometry::csg_difference(square, hole);
}

// u = sin(pi x) sin(pi y) as prediction, 1.01 u as reference.
FieldSet sine_fields(const torch::Tensor& points) {
  const auto x = points.select(1, 0), y = points.select(1, 1);
  const auto u = torch::sin(std::numbers::pi * x) * torch::sin(std::numbers::pi * y);
  return FieldSet{.points = points, .coordinates = {"x", "y"}, .outputs = {"u"}, .prediction = u.unsqueeze(1),
                  .reference = 1.01 * u.unsqueeze(1)};
}

}  // namespace

TEST_CASE("field output: evaluation grid", "[pinn][field_output]") {
  const auto grid = physis::pinn::make_grid(physis::geometry::BoundingBox{{0, -1}, {2, 1}}, {5, 3});
  REQUIRE(grid.points.sizes() == torch::IntArrayRef({15, 2}));
  CHECK(grid.dims == std::vector<int64_t>{5, 3});
  CHECK(grid.spacing == std::vector<double>{0.5, 1.0});
  // x runs fastest, as in a VTK image.
  CHECK(grid.points[1][0].item<double>() == 0.5);
  CHECK(grid.points[1][1].item<double>() == -1.0);
  CHECK(grid.points[5][0].item<double>() == 0.0);
  CHECK(grid.points[5][1].item<double>() == 0.0);
  CHECK(grid.points[14][0].item<double>() == 2.0);
  CHECK(grid.valid.all().item<bool>());

  const auto cube = physis::pinn::make_grid(physis::geometry::BoundingBox{{0, 0, 0}, {1, 1, 1}}, {3});
  CHECK(cube.size() == 27);
  CHECK(cube.points[9][2].item<double>() == 0.5);

  const auto masked = physis::pinn::make_grid(*square_with_hole(), {41});
  const int64_t outside = masked.size() - masked.valid.sum().item<int64_t>();
  // The hole covers pi 0.4^2 / 4 of the square: about 12.6 % of 1681 nodes.
  CHECK(outside > 150);
  CHECK(outside < 270);
  CHECK_FALSE(masked.valid[20 * 41 + 20].item<bool>());  // the centre

  const auto st = physis::pinn::space_time_points(grid, {0.0, 0.5});
  REQUIRE(st.sizes() == torch::IntArrayRef({30, 3}));
  CHECK(st[16][2].item<double>() == 0.5);
  CHECK(st[16][0].item<double>() == 0.5);
}

TEST_CASE("field output: arrays and CSV table", "[pinn][field_output]") {
  const auto points = torch::tensor({0.0, 0.0, 1.0, 0.5}, torch::kFloat64).reshape({2, 2});
  FieldSet fields{.points = points, .coordinates = {}, .outputs = {"u", "v"},
                  .prediction = torch::tensor({1.0, 2.0, 3.0, 4.0}).reshape({2, 2}),
                  .reference = torch::tensor({1.5, 2.0, 3.0, 3.0}).reshape({2, 2})};
  const auto arrays = physis::pinn::field_arrays(fields);
  REQUIRE(arrays.size() == 6);
  CHECK(arrays[2].first == "u_err");
  CHECK(arrays[2].second[0].item<double>() == 0.5);
  CHECK(arrays[5].first == "v_err");
  CHECK(arrays[5].second[1].item<double>() == 1.0);

  const auto dir = fresh_dir("table");
  physis::pinn::write_field_csv(dir / "t.csv", fields, torch::tensor({false, true}));
  const auto lines = lines_of(dir / "t.csv");
  REQUIRE(lines.size() == 2);
  CHECK(lines[0] == "x,y,u,u_ref,u_err,v,v_ref,v_err");
  CHECK(lines[1] == "1,0.5,3,3,0,4,3,1");

  fields.reference = torch::ones({3, 2});
  CHECK_THROWS(physis::pinn::field_arrays(fields));
}

TEST_CASE("field output: grid fields (.vti + CSV) on a domain with a hole", "[pinn][field_output]") {
  const auto dir = fresh_dir("grid");
  const auto grid = physis::pinn::make_grid(*square_with_hole(), {21});
  const auto written = physis::pinn::write_grid_fields(dir, "solution", grid, sine_fields(grid.points));
  const auto csv = lines_of(dir / "solution.csv");
  CHECK(csv.front() == "x,y,u,u_ref,u_err");
  CHECK(static_cast<int64_t>(csv.size()) == 1 + grid.valid.sum().item<int64_t>());  // nodes in the hole left out
  CHECK(no_temporary_files(dir));
  if (PHYSIS_HAVE_VTK) {
    REQUIRE(written.size() == 2);
    const auto vti = read_text(dir / "solution.vti");
    CHECK_THAT(vti, Catch::Contains("<ImageData WholeExtent=\"0 20 0 20 0 0\""));
    for (const char* name : {"\"u\"", "\"u_ref\"", "\"u_err\"", "\"valid\""})
      CHECK_THAT(vti, Catch::Contains(std::string("Name=") + name));
  } else {
    WARN("built without VTK: only the CSV is checked");
  }
}

TEST_CASE("field output: scattered points and mesh (.vtu read back)", "[pinn][field_output]") {
  if (!PHYSIS_HAVE_VTK) {
    WARN("built without VTK: .vtu output not checked");
    return;
  }
  const auto dir = fresh_dir("points");
  const auto points = torch::rand({50, 2}, torch::kFloat64) * 2 - 1;
  const auto fields = sine_fields(points);
  physis::pinn::write_point_fields(dir, "cloud", fields);
  const auto data = physis::geometry::read_vtu((dir / "cloud.vtu").string());
  REQUIRE(data.points.size(0) == 50);
  CHECK(torch::allclose(data.points.slice(1, 0, 2), points));
  REQUIRE(data.point_data.count("u_err") == 1);
  CHECK(torch::allclose(data.point_data.at("u").reshape({-1}), fields.prediction.reshape({-1})));
  CHECK(torch::allclose(data.point_data.at("u_ref").reshape({-1}), fields.reference.reshape({-1})));
  CHECK(lines_of(dir / "cloud.csv").size() == 51);

  physis::geometry::Mesh mesh;
  mesh.dim = 2;
  mesh.nodes = torch::tensor({0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 1.0, 1.0, 0.0, 0.0, 1.0, 0.0}, torch::kFloat64)
                   .reshape({4, 3});  // the unit square, z = 0
  mesh.cells = torch::tensor({0, 1, 2, 0, 2, 3}, torch::kLong).reshape({2, 3});
  FieldSet on_mesh{.points = {}, .coordinates = {}, .outputs = {"u"}, .prediction = torch::tensor({0.0, 1.0, 2.0, 3.0}),
                   .reference = {}};
  physis::pinn::write_mesh_fields(dir, "plate", mesh, on_mesh);
  const auto plate = physis::geometry::read_vtu((dir / "plate.vtu").string());
  CHECK(plate.cell_types.size(0) == 2);
  CHECK(plate.point_data.at("u").reshape({-1})[3].item<double>() == 3.0);
  CHECK(no_temporary_files(dir));
}

TEST_CASE("field output: transient fields, one file per time and a .pvd", "[pinn][field_output]") {
  const auto dir = fresh_dir("transient");
  // Scattered (x, t) points at three times, deliberately not in time order.
  const auto x = torch::linspace(-1, 1, 7, torch::kFloat64);
  std::vector<torch::Tensor> slices;
  for (double t : {0.5, 0.0, 1.0}) slices.push_back(torch::stack({x, torch::full({7}, t, torch::kFloat64)}, 1));
  const auto points = torch::cat(slices);  // [21, 2]
  FieldSet fields{.points = points, .coordinates = {"x", "t"}, .outputs = {"u"},
                  .prediction = points.select(1, 0) * points.select(1, 1), .reference = {}};
  const auto written = physis::pinn::write_transient_fields(dir, "burgers", fields);
  CHECK(lines_of(dir / "burgers.csv").size() == 22);
  if (!PHYSIS_HAVE_VTK) {
    WARN("built without VTK: only the CSV is checked");
    return;
  }
  REQUIRE(written.size() == 5);  // three slices, the .pvd and the CSV
  const auto pvd = read_text(dir / "burgers.pvd");
  CHECK_THAT(pvd, Catch::Contains("timestep=\"0\"") && Catch::Contains("file=\"burgers_0000.vtu\"") &&
                      Catch::Contains("timestep=\"1\" group=\"\" part=\"0\" file=\"burgers_0002.vtu\""));
  const auto last = physis::geometry::read_vtu((dir / "burgers_0002.vtu").string());
  REQUIRE(last.points.size(0) == 7);
  CHECK(torch::allclose(last.point_data.at("u").reshape({-1}), x));  // u = x t at t = 1

  SECTION("on a spatial grid") {
    const auto grid = physis::pinn::make_grid(*square_with_hole(), {11});
    const auto st = physis::pinn::space_time_points(grid, {0.0, 0.1});
    FieldSet on_grid{.points = st, .coordinates = {"x", "y", "t"}, .outputs = {"u"},
                     .prediction = st.select(1, 2) + st.select(1, 0), .reference = {}};
    physis::pinn::write_transient_fields(dir, "heat", on_grid, "t", &grid);
    CHECK(fs::exists(dir / "heat_0001.vti"));
    CHECK_THAT(read_text(dir / "heat.pvd"), Catch::Contains("heat_0001.vti"));
    CHECK(static_cast<int64_t>(lines_of(dir / "heat.csv").size()) == 1 + 2 * grid.valid.sum().item<int64_t>());
  }
  CHECK(no_temporary_files(dir));
}

TEST_CASE("plots: field heat maps and loss history as PNG", "[pinn][plots]") {
  if (!physis::pinn::gnuplot_available()) {
    WARN("gnuplot not installed: PNG output not checked");
    const auto grid = physis::pinn::make_grid(physis::geometry::BoundingBox{{0, 0}, {1, 1}}, {5});
    CHECK_FALSE(physis::pinn::plot_fields(fresh_dir("no_gnuplot"), "s", grid, sine_fields(grid.points)));
    return;
  }
  const auto dir = fresh_dir("plots");
  const auto grid = physis::pinn::make_grid(*square_with_hole(), {61, 61});
  REQUIRE(physis::pinn::plot_fields(dir, "solution", grid, sine_fields(grid.points)));
  CHECK(is_png(dir / "solution_u.png"));
  CHECK(fs::exists(dir / "solution_u.gp"));

  FieldSet no_reference = sine_fields(grid.points);
  no_reference.reference = torch::Tensor();
  REQUIRE(physis::pinn::plot_fields(dir, "prediction", grid, no_reference));
  CHECK(is_png(dir / "prediction_u.png"));

  // Quotes in names reach gnuplot as text, not as script.
  const auto small = physis::pinn::make_grid(physis::geometry::BoundingBox{{0, 0}, {1, 1}}, {9});
  REQUIRE(physis::pinn::plot_fields(dir, "it's \"quoted\"", small, sine_fields(small.points)));
  CHECK(is_png(dir / "it's \"quoted\"_u.png"));

  {
    std::ofstream history(dir / "history.csv");
    history << "step,phase,lr,loss,loss_pde,loss_bc,rel_l2_u,elapsed_s\n";
    for (int step = 0; step <= 1000; step += 10)
      history << step << ",0,0.001," << 1.0 / (step + 1) << "," << 0.6 / (step + 1) << ","
              << 0.4 / std::pow(step + 1, 1.5) << "," << (step % 100 == 0 ? std::to_string(1.0 / (step + 10)) : "")
              << "," << step * 0.01 << "\n";
  }
  REQUIRE(physis::pinn::plot_loss_history(dir / "history.csv", dir / "loss.png"));
  CHECK(is_png(dir / "loss.png"));
  CHECK_FALSE(physis::pinn::plot_loss_history(dir / "absent.csv", dir / "none.png"));
}

TEST_CASE("plots: an elongated channel keeps its shape, panels stacked", "[pinn][plots]") {
  if (!physis::pinn::gnuplot_available()) {
    WARN("gnuplot not installed: PNG output not checked");
    return;
  }
  const auto dir = fresh_dir("plots_channel");
  const auto channel = physis::pinn::make_grid(physis::geometry::BoundingBox{{0, 0}, {2.2, 0.41}}, {111, 21});
  REQUIRE(physis::pinn::plot_fields(dir, "channel", channel, sine_fields(channel.points)));
  REQUIRE(is_png(dir / "channel_u.png"));
  const auto script = read_text(dir / "channel_u.gp");
  CHECK_THAT(script, Catch::Contains("layout 3,1") && Catch::Contains("set size ratio -1"));
  const auto [width, height] = png_size(dir / "channel_u.png");
  CHECK(width == 1200);
  CHECK(height < 1200);
  // A square box stays side by side.
  const auto square = physis::pinn::make_grid(physis::geometry::BoundingBox{{0, 0}, {1, 1}}, {21});
  REQUIRE(physis::pinn::plot_fields(dir, "square", square, sine_fields(square.points)));
  CHECK_THAT(read_text(dir / "square_u.gp"), Catch::Contains("layout 1,3"));
  CHECK(png_size(dir / "square_u.png").first == 1500);
}

TEST_CASE("plots: the Burgers reference is an x-t grid and draws as a heat map", "[pinn][plots]") {
  // COMSOL's time series comes out time-major with x fastest: the node order of make_grid over (x, t).
  const auto ref = physis::pinn::read_comsol(fs::path(PHYSIS_REFERENCE_DIR) / "burgers1d.dat",
                                             physis::pinn::TableOptions().inputs({"x", "t"}).outputs({"u"}));
  const auto grid = physis::pinn::make_grid(physis::geometry::BoundingBox{{-1, 0}, {1, 1}}, {101, 11});
  REQUIRE(torch::allclose(grid.points, ref.points, 0, 1e-12));
  const FieldSet fields{.points = ref.points, .coordinates = {"x", "t"}, .outputs = {"u"},
                        .prediction = ref.values + 0.01 * torch::sin(3 * ref.points.select(1, 0)).unsqueeze(1),
                        .reference = ref.values};
  const auto dir = fresh_dir("burgers");
  physis::pinn::write_grid_fields(dir, "burgers", grid, fields);
  CHECK(lines_of(dir / "burgers.csv").size() == 1112);
  if (!physis::pinn::gnuplot_available()) {
    WARN("gnuplot not installed: PNG output not checked");
    return;
  }
  REQUIRE(physis::pinn::plot_fields(dir, "burgers", grid, fields));
  CHECK(is_png(dir / "burgers_u.png"));
}
