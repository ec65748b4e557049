// Reference solutions: the real COMSOL/CSV files read with known sizes and values, malformed files rejected with
// their line, YAML loading with paths relative to the YAML file, exact solutions and the relative L2 error.
#include "pinn/reference.h"

#include <catch2/catch.hpp>

#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <numbers>

using physis::config::ConfigError;
using physis::config::Section;
using physis::pinn::ReferenceData;
using physis::pinn::ReferenceError;
using physis::pinn::TableOptions;
namespace fs = std::filesystem;

namespace {

const fs::path reference_dir = PHYSIS_REFERENCE_DIR;

// A folder of this process's files, removed when the test program ends.
struct ScratchFolder {
  fs::path path = fs::temp_directory_path() / ("physis-test-reference-" + std::to_string(::getpid()));
  ~ScratchFolder() {
    std::error_code ignored;
    fs::remove_all(path, ignored);
  }
};

fs::path scratch(const std::string& name) {
  static const ScratchFolder folder;
  fs::create_directories(folder.path);
  return folder.path / name;
}

fs::path write_file(const std::string& name, const std::string& text) {
  const auto path = scratch(name);
  std::ofstream(path) << text;
  return path;
}

double entry(const torch::Tensor& t, int64_t i, int64_t j) { return t[i][j].item<double>(); }

// The message of the ReferenceError that `read` throws (empty when it throws none).
template <class F>
std::string reference_error(F read) {
  try {
    read();
  } catch (const ReferenceError& e) {
    return e.what();
  }
  return "";
}

// The ConfigError that loading the `reference` section of a YAML file throws.
ConfigError load_error(const fs::path& yaml) {
  try {
    physis::pinn::load_reference(Section::load_file(yaml.string()).child("reference"));
  } catch (const ConfigError& e) {
    return e;
  }
  throw std::runtime_error("loading " + yaml.string() + " gave no ConfigError");
}

}  // namespace

TEST_CASE("reference: header-less column file (Poisson2d-C)", "[pinn][reference]") {
  const auto ref = physis::pinn::read_comsol(reference_dir / "poisson_classic.dat",
                                             TableOptions().inputs({"x", "y"}).outputs({"u"}));
  REQUIRE(ref.points.sizes() == torch::IntArrayRef({1255, 2}));
  REQUIRE(ref.values.sizes() == torch::IntArrayRef({1255, 1}));
  REQUIRE(ref.points.dtype() == torch::kFloat64);
  CHECK(entry(ref.points, 0, 0) == -0.5);
  CHECK(entry(ref.points, 2, 0) == Approx(-0.47611358825411).epsilon(1e-15));
  CHECK(entry(ref.values, 2, 0) == Approx(0.9666931335781731).epsilon(1e-15));
  // u = 1 on the square's edges, 0 on the circles: every value lies in [0, 1].
  CHECK(ref.values.min().item<double>() >= 0.0);
  CHECK(ref.values.max().item<double>() <= 1.0);
  CHECK(ref.column("u").sizes() == torch::IntArrayRef({1255}));
  CHECK_THROWS_AS(ref.column("v"), std::out_of_range);
}

TEST_CASE("reference: COMSOL plain layout (NS2d-C, u v p @ Re=100)", "[pinn][reference]") {
  const auto ref = physis::pinn::read_comsol(reference_dir / "lid_driven_a4.dat",
                                             TableOptions().inputs({"x", "y"}).outputs({"u", "v", "p"}));
  REQUIRE(ref.size() == 10201);
  REQUIRE(ref.values.size(1) == 3);
  CHECK(ref.outputs == std::vector<std::string>{"u", "v", "p"});
  CHECK(entry(ref.points, 1, 1) == Approx(0.004006647973465352).epsilon(1e-15));
  CHECK(entry(ref.values, 1, 2) == Approx(-3.0013282588553434e-6).epsilon(1e-12));
  // The domain is the unit square and the lid speed 4x(1-x) peaks at 1 (COMSOL overshoots by 3e-4).
  CHECK(ref.points.min().item<double>() == 0.0);
  CHECK(ref.points.max().item<double>() == 1.0);
  CHECK(ref.column("u").max().item<double>() == Approx(1.0).margin(1e-3));

  SECTION("outputs in another order and a subset") {
    const auto pu = physis::pinn::read_comsol(reference_dir / "lid_driven_a4.dat",
                                              TableOptions().inputs({"y", "x"}).outputs({"p", "u"}));
    CHECK(torch::equal(pu.points.select(1, 0), ref.points.select(1, 1)));
    CHECK(torch::equal(pu.column("u"), ref.column("u")));
    CHECK(torch::equal(pu.column("p"), ref.column("p")));
  }
  SECTION("an unknown output lists the columns") {
    const auto message = reference_error([] {
      physis::pinn::read_comsol(reference_dir / "lid_driven_a4.dat", TableOptions().inputs({"x", "y"}).outputs({"w"}));
    });
    CHECK_THAT(message, Catch::Contains("lid_driven_a4.dat:9") && Catch::Contains("no column called 'w'") &&
                            Catch::Contains("x, y, u, v, p"));
  }
}

TEST_CASE("reference: COMSOL time series in columns (Burgers1d-C)", "[pinn][reference]") {
  const auto ref = physis::pinn::read_comsol(reference_dir / "burgers1d.dat",
                                             TableOptions().inputs({"x", "t"}).outputs({"u"}));
  REQUIRE(ref.points.sizes() == torch::IntArrayRef({1111, 2}));
  REQUIRE(ref.values.sizes() == torch::IntArrayRef({1111, 1}));
  // Time-major: the 101 nodes at t = 0, then at t = 0.1, ...
  CHECK(entry(ref.points, 0, 0) == -1.0);
  CHECK(entry(ref.points, 0, 1) == 0.0);
  CHECK(entry(ref.points, 102, 0) == Approx(-0.98));
  CHECK(entry(ref.points, 102, 1) == Approx(0.1));
  CHECK(entry(ref.values, 102, 0) == Approx(0.047599793441306694).epsilon(1e-15));
  CHECK(entry(ref.points, 1110, 1) == Approx(1.0));
  // The initial slice is -sin(pi x), up to COMSOL's interpolation (3.2e-6).
  const auto x0 = ref.points.slice(0, 0, 101).select(1, 0);
  CHECK(torch::allclose(ref.values.slice(0, 0, 101).squeeze(1), -torch::sin(std::numbers::pi * x0), 0, 1e-5));

  SECTION("time first, times given") {
    std::vector<double> times;
    for (int i = 0; i <= 10; ++i) times.push_back(i / 10.0);
    const auto tx = physis::pinn::read_comsol(reference_dir / "burgers1d.dat",
                                              TableOptions().inputs({"t", "x"}).outputs({"u"}).times(times));
    CHECK(torch::equal(tx.points.select(1, 1), ref.points.select(1, 0)));
    CHECK(torch::allclose(tx.points.select(1, 0), ref.points.select(1, 1)));
  }
  SECTION("a wrong number of times") {
    const auto message = reference_error([] {
      physis::pinn::read_comsol(reference_dir / "burgers1d.dat",
                                TableOptions().inputs({"x", "t"}).outputs({"u"}).times({0.0, 1.0}));
    });
    CHECK_THAT(message, Catch::Contains("2 times given but the file has 11 time columns"));
  }
  SECTION("without t among the inputs the 11 u columns are ambiguous") {
    const auto message = reference_error([] {
      physis::pinn::read_comsol(reference_dir / "burgers1d.dat", TableOptions().inputs({"x"}).outputs({"u"}));
    });
    CHECK_THAT(message, Catch::Contains("'u' names 11 columns") && Catch::Contains("time series"));
  }
}

TEST_CASE("reference: CSV with a label column (Ghia 1982)", "[pinn][reference]") {
  const auto ref = physis::pinn::read_csv(reference_dir / "ghia1982_re100.csv",
                                          TableOptions().inputs({"coord"}).outputs({"value"}));
  REQUIRE(ref.size() == 34);
  CHECK(entry(ref.points, 1, 0) == 0.9766);
  CHECK(entry(ref.values, 1, 0) == 0.84123);
  // The label column is text: an error only when it is selected, at its first data line.
  const auto message = reference_error([] {
    physis::pinn::read_csv(reference_dir / "ghia1982_re100.csv", TableOptions().inputs({"coord"}).outputs({"line"}));
  });
  CHECK_THAT(message, Catch::Contains("ghia1982_re100.csv:4") && Catch::Contains("'u_at_x0.5' is not a finite number"));
}

TEST_CASE("reference: malformed files give the file and line", "[pinn][reference]") {
  const auto plain = TableOptions().inputs({"x", "y"}).outputs({"u"});
  struct Malformed {
    std::string name, text, where, what;
  };
  const std::vector<Malformed> cases{
      {"bad_cell.dat", "% x y u\n0 0 1\n0.5 abc 2\n", "bad_cell.dat:3", "column 2 ('y'): 'abc'"},
      {"nan_cell.dat", "0 0 1\n0.5 0.5 nan\n", "nan_cell.dat:2", "'nan' is not a finite number"},
      {"short_row.dat", "0 0 1\n0.5 0.5\n", "short_row.dat:2", "row has 2 columns but the first data row"},
      {"header.dat", "% Nodes: 2\n% x y\n0 0 1\n1 1 2\n", "header.dat:2", "header names 2 columns"},
      {"wide.dat", "0 0 1 7\n", "wide.dat", "no header and 4 columns, but 3 are expected"},
      {"empty.dat", "% only a header\n", "empty.dat", "no data rows"},
  };
  for (const auto& c : cases) {
    INFO(c.name);
    const auto file = write_file(c.name, c.text);
    CHECK_THAT(reference_error([&] { physis::pinn::read_comsol(file, plain); }),
               Catch::Contains(c.where) && Catch::Contains(c.what));
  }
  // 'columns' overrides a header that does not fit.
  const auto named = physis::pinn::read_comsol(scratch("header.dat"), TableOptions(plain).columns({"x", "y", "u"}));
  CHECK(entry(named.values, 1, 0) == 2.0);

  CHECK_THAT(reference_error([] { physis::pinn::read_comsol(scratch("absent.dat"), TableOptions()); }),
             Catch::Contains("absent.dat") && Catch::Contains("cannot open"));
  const auto wide_csv = write_file("wide.csv", "x,y,u\n0,0,1,5\n");
  CHECK_THAT(reference_error([&] { physis::pinn::read_csv(wide_csv, plain); }),
             Catch::Contains("wide.csv:2") && Catch::Contains("header (line 1) names 3"));
}

TEST_CASE("reference: header-less time series with the times given", "[pinn][reference]") {
  const auto file = write_file("series.dat", "0 1 2\n1 3 4\n");  // x, u at t = 0, u at t = 5
  const auto ref = physis::pinn::read_comsol(file, TableOptions().inputs({"x", "t"}).outputs({"u"}).times({0, 5}));
  REQUIRE(ref.size() == 4);
  CHECK(entry(ref.points, 3, 0) == 1.0);
  CHECK(entry(ref.points, 3, 1) == 5.0);
  CHECK(entry(ref.values, 3, 0) == 4.0);
}

TEST_CASE("reference: load_reference from YAML", "[pinn][reference]") {
  write_file("small.dat", "% x  y  u (m/s)\n0 0 1\n1 0 2\n0 1 3\n");
  SECTION("relative path from the YAML folder, defaults from the problem") {
    const auto yaml = write_file("problem.yaml", "reference:\n  file: small.dat\n");
    const auto ref = physis::pinn::load_reference(Section::load_file(yaml.string()).child("reference"), {"x", "y"},
                                                  {"u"});
    REQUIRE(ref.size() == 3);
    CHECK(entry(ref.values, 2, 0) == 3.0);
  }
  SECTION("the real Burgers file with an absolute path") {
    const auto yaml = write_file("burgers.yaml", "reference: {file: " + (reference_dir / "burgers1d.dat").string() +
                                                     ", format: comsol, inputs: [x, t], outputs: [u]}\n");
    const auto ref = physis::pinn::load_reference(Section::load_file(yaml.string()).child("reference"));
    CHECK(ref.size() == 1111);
  }
  SECTION("a missing file is an error at the 'file' key") {
    const auto e =
        load_error(write_file("missing.yaml", "reference:\n  inputs: [x, y]\n  outputs: [u]\n  file: nope.dat\n"));
    CHECK(e.line() == 4);
    CHECK_THAT(e.what(), Catch::Contains("missing.yaml:4") && Catch::Contains("nope.dat") &&
                             Catch::Contains("does not exist"));
  }
  SECTION("a bad cell is reported at 'file' with the data file's line") {
    write_file("bad.dat", "0 0 1\n0 x 1\n");
    const auto e = load_error(write_file("bad.yaml", "reference: {file: bad.dat, inputs: [x, y], outputs: [u]}\n"));
    CHECK_THAT(e.what(), Catch::Contains("bad.yaml:1") && Catch::Contains("bad.dat:2"));
  }
  SECTION("an unknown output points at 'outputs'") {
    const auto e =
        load_error(write_file("out.yaml", "reference:\n  file: small.dat\n  inputs: [x, y]\n  outputs: [w]\n"));
    CHECK(e.line() == 4);
    CHECK_THAT(e.what(), Catch::Contains("no column called 'w'"));
  }
  SECTION("unknown format and unknown key") {
    const auto format = load_error(write_file("fmt.yaml", "reference: {file: small.dat, format: xlsx, inputs: [x, y], "
                                                          "outputs: [u]}\n"));
    CHECK_THAT(format.what(), Catch::Contains("unknown reference format 'xlsx'"));
    const auto typo =
        load_error(write_file("typo.yaml", "reference: {file: small.dat, input: [x, y], outputs: [u]}\n"));
    CHECK_THAT(typo.what(), Catch::Contains("unknown key"));
  }
}

TEST_CASE("reference: exact solution on points", "[pinn][reference]") {
  physis::pinn::SymbolTable symbols;
  symbols.inputs = {"x", "y"};
  symbols.outputs = {"u", "v"};
  const auto points = torch::tensor({0.0, 0.0, 0.5, 2.0, 0.25, -1.0}, torch::kFloat64).reshape({3, 2});
  const auto ref = physis::pinn::reference_from_exact(
      {{"u", physis::pinn::Expression::parse("sin(pi*x)*y", symbols)},
       {"v", physis::pinn::Expression::parse("x + y^2", symbols)}},
      points.to(torch::kFloat32), {"x", "y"});
  REQUIRE(ref.values.sizes() == torch::IntArrayRef({3, 2}));
  CHECK(ref.values.dtype() == torch::kFloat64);
  CHECK(entry(ref.values, 1, 0) == Approx(2.0));
  CHECK(entry(ref.values, 2, 0) == Approx(-std::sin(std::numbers::pi / 4)));
  CHECK(entry(ref.values, 1, 1) == Approx(4.5));
  CHECK(ref.outputs == std::vector<std::string>{"u", "v"});
}

TEST_CASE("reference: relative L2 error", "[pinn][reference]") {
  const auto truth = torch::tensor({3.0, 4.0, 0.0, 1.0}, torch::kFloat64).reshape({2, 2});  // columns (3, 0), (4, 1)
  CHECK(physis::pinn::relative_l2(truth, truth) == 0.0);
  CHECK(physis::pinn::relative_l2(1.1 * truth, truth) == Approx(0.1));
  CHECK(physis::pinn::relative_l2(truth.to(torch::kFloat32) + 1, truth) == Approx(2.0 / std::sqrt(26.0)));
  CHECK(physis::pinn::relative_l2(torch::ones({3}), torch::ones({3, 1})) == 0.0);
  const auto per_column = physis::pinn::relative_l2_per_column(truth * torch::tensor({{1.1, 1.0}}), truth);
  REQUIRE(per_column.size() == 2);
  CHECK(per_column[0] == Approx(0.1));
  CHECK(per_column[1] == 0.0);
  // A zero truth has no relative error: the absolute norm is returned.
  CHECK(physis::pinn::relative_l2(torch::full({4}, 0.5), torch::zeros({4})) == Approx(1.0));
  CHECK_THROWS(physis::pinn::relative_l2(torch::ones({3}), torch::ones({4})));
}

TEST_CASE("reference: centreline profiles (Ghia et al. 1982)", "[pinn][reference]") {
  auto ref = physis::pinn::read_profiles(reference_dir / "ghia1982_re100.csv",
                                         TableOptions().inputs({"x", "y"}).outputs({"u", "v", "p"}));
  REQUIRE(ref.size() == 34);
  const auto u_known = ~torch::isnan(ref.column("u"));
  const auto v_known = ~torch::isnan(ref.column("v"));
  REQUIRE(u_known.sum().item<int64_t>() == 17);
  REQUIRE(v_known.sum().item<int64_t>() == 17);
  REQUIRE(torch::isnan(ref.column("p")).all().item<bool>());
  // u along x = 0.5: the row "u_at_x0.5,0.9766,0.84123" is the point (0.5, 0.9766).
  const auto u_points = ref.points.index({u_known});
  REQUIRE(torch::allclose(u_points.select(1, 0), torch::full({17}, 0.5, torch::kFloat64)));
  const auto row = (u_points.select(1, 1) - 0.9766).abs().argmin().item<int64_t>();
  REQUIRE(ref.column("u").index({u_known})[row].item<double>() == Approx(0.84123));
  // v along y = 0.5: y fixed.
  REQUIRE(torch::allclose(ref.points.index({v_known}).select(1, 1), torch::full({17}, 0.5, torch::kFloat64)));

  const auto bad = write_file("bad_profile.csv", "line,coord,value\nw_at_x0.5,0.1,0.2\n");
  REQUIRE_THROWS_WITH(physis::pinn::read_profiles(bad, TableOptions().inputs({"x", "y"}).outputs({"u", "v"})),
                      Catch::Contains("bad_profile.csv:2") && Catch::Contains("'w' is not an output"));
  const auto yaml = write_file("profiles.yaml", "file: " + (reference_dir / "ghia1982_re100.csv").string() +
                                                    "\nformat: profiles\n");
  REQUIRE(physis::pinn::load_reference(Section::load_file(yaml.string()), {"x", "y"}, {"u", "v", "p"}).size() == 34);
}
