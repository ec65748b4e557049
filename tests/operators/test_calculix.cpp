// CalculiX: a linear bar against delta = F L / (E A), the reaction-force history of a prescribed displacement,
// clear errors (ccx missing, a failed job, truncated result files), and the fea generator's dataset read back
// through the dataset readers. Tests that run ccx are skipped with a warning where it is not installed.
#include "tests/scratch.h"

#include <catch2/catch.hpp>

#include "core/build_config.h"
#include "operators/calculix.h"
#include "operators/dataset_io.h"
#include "operators/fea_column.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <tuple>

using namespace physis::ops;
namespace fs = std::filesystem;
using Catch::Matchers::Contains;
using physis::test::scratch;

namespace {

bool have_ccx() {
  if (calculix_available()) return true;
  WARN("SKIPPED: CalculiX (ccx) is not installed; scripts/setup installs it (or set PHYSIS_CCX)");
  return false;
}

// Sets an environment variable for the scope, restoring the previous value.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const char* value) : name_(name) {
    if (const char* old = std::getenv(name)) previous_ = old;
    ::setenv(name, value, 1);
  }
  ~ScopedEnv() {
    if (previous_) ::setenv(name_, previous_->c_str(), 1);
    else ::unsetenv(name_);
  }
  ScopedEnv(const ScopedEnv&) = delete;
  ScopedEnv& operator=(const ScopedEnv&) = delete;

 private:
  const char* name_;
  std::optional<std::string> previous_;
};

// A bar of `n` C3D8 elements along x over [0, length] x [0, 1] x [0, 1]: nodes (i, j, k) at row 4 i + 2 j + k.
FeMesh hex_bar(int64_t n, double length) {
  FeMesh mesh;
  mesh.element_type = "C3D8";
  mesh.nodes = torch::empty({4 * (n + 1), 3}, torch::kFloat64);
  auto row = [](int64_t i, int64_t j, int64_t k) { return 4 * i + 2 * j + k; };
  for (int64_t i = 0; i <= n; ++i)
    for (int64_t j = 0; j < 2; ++j)
      for (int64_t k = 0; k < 2; ++k) {
        mesh.nodes[row(i, j, k)] = torch::tensor({length * i / n, double(j), double(k)}, torch::kFloat64);
        if (i == 0) mesh.node_sets["LEFT"].push_back(row(i, j, k));
        if (i == n) mesh.node_sets["RIGHT"].push_back(row(i, j, k));
        if (i == 0 && j == 0) mesh.node_sets["LEFT_Y0"].push_back(row(i, j, k));
        if (i == 0 && k == 0) mesh.node_sets["LEFT_Z0"].push_back(row(i, j, k));
      }
  std::vector<int64_t> cells;
  for (int64_t i = 0; i < n; ++i)
    for (auto [a, j, k] : std::vector<std::tuple<int64_t, int64_t, int64_t>>{
             {0, 0, 0}, {1, 0, 0}, {1, 1, 0}, {0, 1, 0}, {0, 0, 1}, {1, 0, 1}, {1, 1, 1}, {0, 1, 1}})
      cells.push_back(row(i + a, j, k));
  mesh.elements = torch::tensor(cells, torch::kLong).reshape({n, 8});
  return mesh;
}

// Two CPS4 elements over [0, 2] x [0, 1]; LEFT is x = 0, RIGHT is x = 2.
FeMesh quad_strip() {
  FeMesh mesh;
  mesh.element_type = "CPS4";
  mesh.nodes = torch::tensor({0., 0., 1., 0., 2., 0., 0., 1., 1., 1., 2., 1.}, torch::kFloat64).reshape({6, 2});
  mesh.elements = torch::tensor({0, 1, 4, 3, 1, 2, 5, 4}, torch::kLong).reshape({2, 4});
  mesh.node_sets = {{"LEFT", {0, 3}}, {"RIGHT", {2, 5}}, {"ORIGIN", {0}}};
  return mesh;
}

// A real .frd file of quad_strip() (ccx 2.20): two result blocks, at step times 0.5 and 1.
const char* kFrd = R"(    1C
    1UUSER
    2C                             6                                     1
 -1         1 0.00000E+00 0.00000E+00 0.00000E+00
 -1         2 1.00000E+00 0.00000E+00 0.00000E+00
 -1         3 2.00000E+00 0.00000E+00 0.00000E+00
 -1         4 0.00000E+00 1.00000E+00 0.00000E+00
 -1         5 1.00000E+00 1.00000E+00 0.00000E+00
 -1         6 2.00000E+00 1.00000E+00 0.00000E+00
 -3
    3C                             2                                     1
 -1         1    9    0    1
 -2         1         2         5         4
 -1         2    9    0    1
 -2         2         3         6         5
 -3
    1PSTEP                         1           2           1
  100CL  101 5.00000E-01           6                     0    1           1
 -4  DISP        4    1
 -5  D1          1    2    1    0
 -5  D2          1    2    2    0
 -5  D3          1    2    3    0
 -5  ALL         1    2    0    0    1ALL
 -1         1 0.00000E+00 0.00000E+00 0.00000E+00
 -1         2 2.50000E-02-2.65717E-18 0.00000E+00
 -1         3 5.00000E-02-5.28648E-18 0.00000E+00
 -1         4 0.00000E+00-1.07949E-19 0.00000E+00
 -1         5 2.50000E-02-2.32591E-18 0.00000E+00
 -1         6 5.00000E-02-5.84104E-18 0.00000E+00
 -3
    1PSTEP                         2           4           1
  100CL  102 1.000000000           6                     0    2           1
 -4  DISP        4    1
 -5  D1          1    2    1    0
 -5  D2          1    2    2    0
 -5  D3          1    2    3    0
 -5  ALL         1    2    0    0    1ALL
 -1         1 0.00000E+00 0.00000E+00 0.00000E+00
 -1         2 5.00000E-02 1.00553E-17 0.00000E+00
 -1         3 1.00000E-01 1.76841E-17 0.00000E+00
 -1         4 0.00000E+00-6.57498E-20 0.00000E+00
 -1         5 5.00000E-02 1.02619E-17 0.00000E+00
 -1         6 1.00000E-01 1.73368E-17 0.00000E+00
 -3
 9999
)";

fs::path write_text(const std::string& name, const std::string& text) {
  const auto path = scratch(name);
  std::ofstream(path) << text;
  return path;
}

}  // namespace

TEST_CASE("frd displacements parse per result block and truncated or malformed files are clear errors",
          "[calculix]") {
  const std::string frd = kFrd;
  const auto good = read_frd_displacements(write_text("good.frd", frd), 6);
  REQUIRE(good.times.size(0) == 2);
  CHECK(good.times[0].item<double>() == Approx(0.5));
  CHECK(good.times[1].item<double>() == Approx(1.0));
  REQUIRE(good.displacements.sizes() == torch::IntArrayRef({2, 6, 3}));
  CHECK(good.displacements[1][2][0].item<double>() == Approx(0.1));
  CHECK(good.displacements[0][4][0].item<double>() == Approx(0.025));
  CHECK(std::abs(good.displacements[1][5][1].item<double>()) < 1e-15);  // fields run together: "1.0E-01 1.7E-17"

  const auto truncated = write_text("truncated.frd", frd.substr(0, frd.size() * 3 / 4));
  REQUIRE_THROWS_WITH(read_frd_displacements(truncated, 6), Contains("truncated.frd") && Contains("truncated"));
  std::string garbled = frd;
  garbled.replace(garbled.find("2.50000E-02"), 11, "2.5x000E-02");
  const auto bad = write_text("garbled.frd", garbled);
  REQUIRE_THROWS_WITH(read_frd_displacements(bad, 6), Contains("garbled.frd' line") && Contains("2.5x000E-02"));
  REQUIRE_THROWS_WITH(read_frd_displacements(write_text("few.frd", frd), 4), Contains("node 5"));
  REQUIRE_THROWS_WITH(read_frd_displacements(scratch("absent.frd"), 6), Contains("absent.frd"));

  const auto dat = write_text("forces.dat", "\n total force (fx,fy,fz) for set RIGHT and time  0.5000000E+00\n\n"
                                            "        1.297266E+01 -1.818275E-16 -1.528047E-16\n");
  const auto totals = read_dat_totals(dat, "RIGHT");
  REQUIRE(totals.forces.sizes() == torch::IntArrayRef({1, 3}));
  CHECK(totals.forces[0][0].item<double>() == Approx(12.97266));
  REQUIRE_THROWS_WITH(read_dat_totals(dat, "TOP"), Contains("forces.dat") && Contains("NSET=TOP"));
  const auto cut = write_text("cut.dat", " total force (fx,fy,fz) for set RIGHT and time  0.5000000E+00\n\n");
  REQUIRE_THROWS_WITH(read_dat_totals(cut, "RIGHT"), Contains("cut.dat") && Contains("truncated"));
}

TEST_CASE("A missing CalculiX executable is a clear error naming PHYSIS_CCX", "[calculix]") {
  ScopedEnv env("PHYSIS_CCX", "/nonexistent/ccx");
  CHECK(calculix_executable() == "/nonexistent/ccx");
  CHECK_FALSE(calculix_available());
  CalculixJob job;
  job.mesh = quad_strip();
  REQUIRE_THROWS_WITH(run_calculix(job), Contains("/nonexistent/ccx") && Contains("PHYSIS_CCX") &&
                                             Contains("calculix-ccx"));
  REQUIRE_THROWS_WITH(generate_fea_column(FeaColumnOptions().samples(1)),
                      Contains("PHYSIS_CCX") || Contains("without Gmsh") || Contains("lacks Gmsh"));
}

TEST_CASE("A linear CalculiX bar stretches by F L over E A", "[calculix]") {
  if (!have_ccx()) return;
  const double length = 10, young = 1000, force = 10;  // cross-section 1 x 1
  CalculixJob job;
  job.mesh = hex_bar(4, length);
  job.young = young;
  job.poisson = 0.3;
  // Rollers: the left face cannot move along x, one edge of it not along y, one not along z; the bar contracts
  // freely across, so the stress is uniform.
  job.fixed = {{"LEFT", 1, 1}, {"LEFT_Y0", 2, 2}, {"LEFT_Z0", 3, 3}};
  job.loads = {{"RIGHT", 1, force / 4}};
  const auto result = run_calculix(job);
  REQUIRE(result.displacements.sizes() == torch::IntArrayRef({1, 20, 3}));
  const double delta = force * length / (young * 1.0);
  for (int64_t node : job.mesh.node_sets.at("RIGHT"))
    CHECK(result.displacements[0][node][0].item<double>() == Approx(delta).epsilon(0.01));
  // Negative control: the same bar with twice the modulus stretches half as much.
  job.young = 2 * young;
  const auto stiffer = run_calculix(job);
  CHECK(stiffer.displacements[0][16][0].item<double>() == Approx(delta / 2).epsilon(0.01));
}

TEST_CASE("The reaction-force history of a prescribed displacement follows the load fraction", "[calculix]") {
  if (!have_ccx()) return;
  // Plane stress, nu = 0: the right end pulled by 0.01 needs F = E t h delta / L = 1000 * 0.5 * 1 * 0.01 / 2 = 2.5.
  CalculixJob job;
  job.mesh = quad_strip();
  job.young = 1000;
  job.poisson = 0;
  job.thickness = 0.5;
  job.fixed = {{"LEFT", 1, 1}, {"ORIGIN", 2, 2}};
  job.prescribed = {{"RIGHT", 1, 1, 0.01}};
  job.nlgeom = true;
  job.outputs = 4;
  job.reaction_set = "RIGHT";
  const auto result = run_calculix(job);
  REQUIRE(result.times.size(0) == 4);
  REQUIRE(result.reaction.sizes() == torch::IntArrayRef({4, 3}));
  for (int64_t t = 0; t < 4; ++t) {
    const double fraction = (t + 1) / 4.0;
    CHECK(result.times[t].item<double>() == Approx(fraction));
    CHECK(result.reaction[t][0].item<double>() == Approx(2.5 * fraction).epsilon(0.01));
    CHECK(result.displacements[t][2][0].item<double>() == Approx(0.01 * fraction));
  }
}

TEST_CASE("A CalculiX job that fails names its deck, the log and the error", "[calculix]") {
  if (!have_ccx()) return;
  CalculixJob job;
  job.mesh = quad_strip();
  job.mesh.element_type = "NOSUCH4";
  const auto folder = scratch("failed_job");
  REQUIRE_THROWS_WITH(run_calculix(job, CalculixOptions().folder(folder)),
                      Contains("job.inp") && Contains("ccx.log") && Contains("*ERROR"));
  CHECK(fs::exists(folder / "ccx.log"));  // kept for the user to read
}

TEST_CASE("Column designs are uniform over their ranges and depend only on the seed and index", "[fea]") {
  const auto& ranges = column_design_ranges();
  for (int64_t i = 0; i < 50; ++i) {
    const auto values = sample_column_design(3, i).values();
    for (size_t p = 0; p < ranges.size(); ++p) {
      CHECK(values[p] >= ranges[p].first);
      CHECK(values[p] <= ranges[p].second);
    }
  }
  CHECK(sample_column_design(3, 7).values() == sample_column_design(3, 7).values());
  CHECK(sample_column_design(3, 7).values() != sample_column_design(3, 8).values());
  CHECK(sample_column_design(3, 7).values() != sample_column_design(4, 7).values());
}

TEST_CASE("A tiny fea generation reads back through the dataset and vtu collection readers", "[fea]") {
  if (!PHYSIS_HAVE_GMSH || !PHYSIS_HAVE_VTK) {
    WARN("SKIPPED: this build lacks Gmsh or VTK");
    return;
  }
  if (!have_ccx()) return;
  const int64_t steps = 4;
  const auto options = FeaColumnOptions().samples(2).mesh_size(4).increments(steps).seed(1);
  const auto out = generate_fea_column(options);
  for (const auto& f : out.failures) WARN("design " << f.design << ": " << f.reason);
  REQUIRE(out.failures.empty());
  REQUIRE(out.data.size() == 2);

  const auto file = scratch(PHYSIS_HAVE_HDF5 ? "fea.h5" : "fea.pt");
  write_dataset(out.data, file);
  const auto back = read_dataset(file);
  REQUIRE(back.size() == 2);
  CHECK(back.param_names == std::vector<std::string>{"height", "hole_radius", "hole_pitch", "hole_offset"});
  CHECK(back.history_names == std::vector<std::string>{"reaction_force"});
  CHECK(back.target_names == std::vector<std::string>{"ux", "uy"});
  for (const auto& s : back.samples) {
    const int64_t n = s.coords.size(0);
    CHECK(n > 50);
    CHECK(s.coords.sizes() == torch::IntArrayRef({n, 2}));
    CHECK(s.targets.sizes() == torch::IntArrayRef({n, 2}));
    CHECK(s.params.sizes() == torch::IntArrayRef({4}));
    CHECK(s.times.sizes() == torch::IntArrayRef({steps}));
    CHECK(s.history.sizes() == torch::IntArrayRef({steps, 1}));
    // The top edge moved down by the full shortening; the compressive force grows with it.
    CHECK(s.targets.select(1, 1).min().item<double>() == Approx(-options.shortening()).epsilon(1e-4));
    CHECK(s.history[0][0].item<double>() > 0);
  }

  const auto csv = scratch("collection") / "fea.csv";
  write_fea_collection(out, csv);
  VtuCollectionSpec spec;
  spec.targets = {"ux", "uy"};
  spec.dimension = 2;
  const auto collection = read_vtu_collection(csv, spec);
  collection.validate();
  REQUIRE(collection.size() == 2);
  CHECK(collection.param_names == back.param_names);
  CHECK(collection.history_names == back.history_names);
  for (int64_t i = 0; i < 2; ++i) {
    const auto &a = collection.samples[i], &b = back.samples[i];
    CHECK(torch::allclose(a.coords, b.coords));
    CHECK(torch::allclose(a.targets, b.targets));
    CHECK(torch::allclose(a.params, b.params));
    CHECK(torch::allclose(a.times, b.times));
    CHECK(torch::allclose(a.history, b.history));
  }
}
