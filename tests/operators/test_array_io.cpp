// Array files: every reader on the fixtures of tests/data/operators/make_fixtures.py (exact values and index order),
// write round trips, and clear errors for broken input.
#include "tests/scratch.h"

#include <catch2/catch.hpp>

#include "core/build_config.h"
#include "operators/array_io.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>

using namespace physis::ops;
namespace fs = std::filesystem;
using Catch::Matchers::Contains;

namespace {

fs::path fixture(const std::string& name) { return fs::path(PHYSIS_TEST_DATA_DIR) / "operators" / name; }

using physis::test::scratch;

// The fixtures' reference array: A[i, j, k] = 100 i + 10 j + k, shape [2, 3, 4].
torch::Tensor reference(torch::Dtype dtype = torch::kFloat64) {
  auto i = torch::arange(2).view({2, 1, 1}), j = torch::arange(3).view({1, 3, 1}), k = torch::arange(4).view({1, 1, 4});
  return (100 * i + 10 * j + k).to(dtype);
}

// The first `fraction` of a fixture's bytes, as a damaged copy.
fs::path truncated(const std::string& name, double fraction) {
  std::ifstream in(fixture(name), std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const auto out = scratch("cut_" + name);
  std::ofstream(out, std::ios::binary).write(bytes.data(), static_cast<std::streamsize>(bytes.size() * fraction));
  return out;
}

void require_equal(const torch::Tensor& a, const torch::Tensor& b) {
  INFO("got " << a.sizes() << " " << a.scalar_type() << ", expected " << b.sizes() << " " << b.scalar_type());
  REQUIRE(a.scalar_type() == b.scalar_type());
  REQUIRE(torch::equal(a, b));
}

}  // namespace

TEST_CASE("npy in C and Fortran order keeps the index meaning", "[io][array_io]") {
  auto c = read_arrays(fixture("grid_c.npy"));
  REQUIRE(c.size() == 1);
  require_equal(c.at("grid_c"), reference());
  require_equal(read_arrays(fixture("grid_fortran.npy")).at("grid_fortran"), reference(torch::kFloat));
  REQUIRE(list_arrays(fixture("grid_c.npy")) == std::vector<std::string>{"grid_c"});
}

TEST_CASE("npz with stored and deflated members, every element type", "[io][array_io]") {
  if (!PHYSIS_HAVE_ZIP) {
    REQUIRE_THROWS_WITH(read_arrays(fixture("dtypes.npz")), Contains("built without libzip"));
    WARN("SKIPPED: this build lacks libzip");
    return;
  }
  for (const char* name : {"dtypes.npz", "dtypes_deflated.npz"}) {
    INFO(name);
    auto a = read_arrays(fixture(name));
    REQUIRE(a.size() == 9);
    require_equal(a.at("f8"), reference());
    require_equal(a.at("f4"), torch::tensor({0.5f, -1.25f}));
    require_equal(a.at("f2"), torch::tensor({1.5f}));
    require_equal(a.at("i1"), torch::tensor({-128, 127}, torch::kLong));
    require_equal(a.at("i4"), torch::tensor({1, -2, 3}, torch::kLong).view({1, 3}));
    require_equal(a.at("i8"), torch::tensor({int64_t{-5}, int64_t{1} << 40}, torch::kLong));
    require_equal(a.at("u1"), torch::tensor({0, 255}, torch::kLong));
    require_equal(a.at("u2"), torch::tensor({65535}, torch::kLong));
    require_equal(a.at("b1"), torch::tensor({true, false, true}));
  }
  auto some = read_arrays(fixture("dtypes.npz"), {"i4", "b1"});
  REQUIRE(some.size() == 2);
  REQUIRE_THROWS_WITH(read_arrays(fixture("dtypes.npz"), {"coeff"}),
                      Contains("has no array 'coeff'") && Contains("b1, f2, f4, f8"));
}

TEST_CASE("pt files written by Python's torch.save", "[io][array_io]") {
  require_equal(read_arrays(fixture("single.pt")).at("single"), reference());
  auto file = read_array_file(fixture("tensors.pt"));
  require_equal(file.arrays.at("a"), reference(torch::kFloat));
  require_equal(file.arrays.at("ints"), torch::tensor({1, 2, 3}, torch::kLong));
  require_equal(file.arrays.at("nested/b"), torch::tensor({{1.0, 2.0}}, torch::kFloat64));
  require_equal(file.arrays.at("list/0"), torch::tensor({7}, torch::kLong));
  require_equal(file.arrays.at("list/1"), torch::tensor({8}, torch::kLong));
  REQUIRE(file.arrays.at("nu").item<double>() == 0.01);
  REQUIRE(file.attributes.at("note") == "written by make_fixtures.py");
  REQUIRE_THROWS_WITH(read_arrays(fixture("tensors.pt"), {"note"}), Contains("'note' is a string"));
}

TEST_CASE("mat v5 and v7.3 come back in MATLAB's (scipy's) index order", "[io][array_io]") {
  if (!PHYSIS_HAVE_MATIO) {
    REQUIRE_THROWS_WITH(read_arrays(fixture("v5.mat")), Contains("built without matio"));
    WARN("SKIPPED: this build lacks matio");
    return;
  }
  for (const char* name : {"v5.mat", "v73.mat"}) {
    INFO(name);
    auto a = read_arrays(fixture(name));
    require_equal(a.at("coeff"), reference());  // [2, 3, 4], coeff(i+1, j+1, k+1) = 100 i + 10 j + k
    require_equal(a.at("single"), reference(torch::kFloat));
    require_equal(a.at("flag"), torch::tensor({true, false, true}).view({1, 3}));
  }
  auto v5 = read_arrays(fixture("v5.mat"));
  require_equal(v5.at("ints"), torch::tensor({1, -2, 3}, torch::kLong).view({1, 3}));
  REQUIRE(v5.count("cell") == 0);  // skipped when reading everything ...
  REQUIRE(v5.count("record") == 0);
  REQUIRE(v5.count("text") == 0);
  // ... refused when asked for
  REQUIRE_THROWS_WITH(read_arrays(fixture("v5.mat"), {"cell"}), Contains("'cell' is a cell array"));
  REQUIRE_THROWS_WITH(read_arrays(fixture("v5.mat"), {"record"}), Contains("'record' is a struct"));
  REQUIRE_THROWS_WITH(read_arrays(fixture("v5.mat"), {"sol"}), Contains("has no array 'sol'") && Contains("coeff"));
}

TEST_CASE("hdf5 reads every numeric dataset and the root's string attributes", "[io][array_io]") {
  if (!PHYSIS_HAVE_HDF5) {
    REQUIRE_THROWS_WITH(read_arrays(fixture("arrays.h5")), Contains("built without HDF5"));
    WARN("SKIPPED: this build lacks HDF5");
    return;
  }
  auto file = read_array_file(fixture("arrays.h5"));
  REQUIRE(file.arrays.size() == 4);
  require_equal(file.arrays.at("a"), reference());
  require_equal(file.arrays.at("group/b"), torch::tensor({1, 2, 3, 4}, torch::kLong).view({2, 2}));
  require_equal(file.arrays.at("group/sub/c"), torch::tensor({0.25f}));
  require_equal(file.arrays.at("flag"), torch::tensor({true, false}));
  REQUIRE(file.attributes.at("origin") == "make_fixtures.py");
  REQUIRE(file.attributes.count("count") == 0);  // numeric attributes are not text
  REQUIRE_THROWS_WITH(read_arrays(fixture("arrays.h5"), {"names"}), Contains("'names' holds strings"));
  REQUIRE(read_arrays(fixture("arrays.h5"), {"group/b"}).size() == 1);
}

TEST_CASE("write_hdf5 and write_pt round trip and replace files atomically", "[io][array_io]") {
  const ArrayMap arrays = {{"u", torch::randn({3, 4}, torch::TensorOptions().dtype(torch::kFloat64))},
                           {"group/v", reference(torch::kFloat)},
                           {"n", torch::tensor({1, 2}, torch::kLong)},
                           {"scalar", torch::tensor(2.5f)}};
  const std::map<std::string, std::string> attributes = {{"note", "unit test"}};
  std::vector<fs::path> paths = {scratch("round.pt")};
  if (PHYSIS_HAVE_HDF5) paths.push_back(scratch("round.h5"));
  for (const auto& path : paths) {
    INFO(path);
    if (path.extension() == ".h5") write_hdf5(path, arrays, attributes);
    else write_pt(path, arrays, attributes);
    auto back = read_array_file(path);
    REQUIRE(back.arrays.size() == arrays.size());
    for (const auto& [name, t] : arrays) require_equal(back.arrays.at(name), t);
    REQUIRE(back.attributes == attributes);

    // a failing write leaves the previous file and no temporary behind
    ArrayMap bad = {{"u", torch::Tensor()}};
    REQUIRE_THROWS_AS(path.extension() == ".h5" ? write_hdf5(path, bad) : write_pt(path, bad), DatasetError);
    require_equal(read_arrays(path).at("u"), arrays.at("u"));
    for (const auto& entry : fs::directory_iterator(path.parent_path()))
      REQUIRE(entry.path().filename().string().find(".tmp.") == std::string::npos);
  }
  if (!PHYSIS_HAVE_HDF5)
    REQUIRE_THROWS_WITH(write_hdf5(scratch("x.h5"), arrays), Contains("built without HDF5"));
}

TEST_CASE("broken or unsupported array files are clear errors", "[io][array_io]") {
  REQUIRE_THROWS_WITH(read_arrays(scratch("absent.npy")), Contains("no such file"));
  std::ofstream(scratch("table.csv")) << "a,b\n1,2\n";
  REQUIRE_THROWS_WITH(read_arrays(scratch("table.csv")), Contains("unknown extension '.csv'"));
  REQUIRE_THROWS_WITH(read_arrays(fixture("grid_c.npy"), {"u"}), Contains("has no array 'u'") && Contains("grid_c"));
  REQUIRE_THROWS_WITH(read_arrays(fixture("bigendian.npy")), Contains("big-endian"));
  REQUIRE_THROWS_WITH(read_arrays(fixture("complex.npy")), Contains("unsupported element type '<c16'"));
  REQUIRE_THROWS_WITH(read_arrays(truncated("grid_c.npy", 0.8)), Contains("truncated"));
  REQUIRE_THROWS_WITH(read_arrays(truncated("tensors.pt", 0.5)), Contains("cannot be read as a torch.save file"));
  if (PHYSIS_HAVE_ZIP) REQUIRE_THROWS_WITH(read_arrays(truncated("dtypes.npz", 0.7)), Contains("zip"));
  if (PHYSIS_HAVE_HDF5) REQUIRE_THROWS_AS(read_arrays(truncated("arrays.h5", 0.6)), DatasetError);
  if (PHYSIS_HAVE_MATIO) {
    REQUIRE_THROWS_AS(read_arrays(truncated("v5.mat", 0.6)), DatasetError);
    REQUIRE_THROWS_AS(read_arrays(truncated("v73.mat", 0.6)), DatasetError);
  }
  // a file of the wrong kind behind a known extension
  fs::copy_file(fixture("grid_c.npy"), scratch("fake.h5"), fs::copy_options::overwrite_existing);
  if (PHYSIS_HAVE_HDF5) REQUIRE_THROWS_WITH(read_arrays(scratch("fake.h5")), Contains("not an HDF5 file"));
  require_equal(read_arrays(scratch("fake.h5"), {}, "npy").at("fake"), reference());  // the format overrides
}
