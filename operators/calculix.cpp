#include "operators/calculix.h"

#include "core/subprocess.h"

#include <unistd.h>

#include <atomic>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <limits>
#include <sstream>

namespace physis::ops {

namespace fs = std::filesystem;

namespace {

const auto f64 = torch::TensorOptions().dtype(torch::kFloat64);

// CalculiX reads at most 16 entries per data line.
constexpr int kEntriesPerLine = 16;

bool plane_element(const std::string& type) {
  return type.rfind("CPS", 0) == 0 || type.rfind("CPE", 0) == 0 || type.rfind("CAX", 0) == 0;
}

// A data line, continued on the next line (after a trailing comma) every kEntriesPerLine entries.
void write_numbers(std::ostream& out, const std::vector<int64_t>& numbers) {
  for (size_t i = 0; i < numbers.size(); ++i)
    out << numbers[i] << (i + 1 == numbers.size() ? "\n" : (i + 1) % kEntriesPerLine == 0 ? ",\n" : ", ");
}

// The step times 1/outputs, ..., 1, eight to a line.
void write_time_points(std::ostream& out, int64_t outputs) {
  for (int64_t k = 1; k <= outputs; ++k)
    out << static_cast<double>(k) / static_cast<double>(outputs) << (k % 8 == 0 || k == outputs ? "\n" : ", ");
}

void write_boundaries(std::ostream& out, const std::vector<FeBoundary>& boundaries) {
  if (boundaries.empty()) return;
  out << "*BOUNDARY\n";
  for (const auto& b : boundaries)
    out << b.node_set << ", " << b.first_dof << ", " << b.last_dof << ", " << b.value << "\n";
}

std::string read_text(const fs::path& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// The *ERROR lines of a ccx log with the line that follows each (ccx wraps its messages), or "".
std::string log_errors(const std::string& log) {
  std::istringstream in(log);
  std::string line, errors;
  int following = 0;
  while (std::getline(in, line)) {
    const bool error = line.find("*ERROR") != std::string::npos;
    if (error) following = 2;
    if (following-- > 0) {
      const auto begin = line.find_first_not_of(' ');
      if (begin != std::string::npos) errors += (errors.empty() ? "" : " ") + line.substr(begin);
    }
  }
  return errors;
}

fs::path fresh_job_folder() {
  static std::atomic<int64_t> counter{0};
  return fs::temp_directory_path() /
         ("physis_ccx_" + std::to_string(::getpid()) + "_" + std::to_string(counter++));
}

// Fixed-width fields of result files.
class FixedWidthReader {
 public:
  FixedWidthReader(const fs::path& path, const std::string& what) : path_(path), what_(what) {}
  [[noreturn]] void fail(int line, const std::string& message) const {
    throw CalculixError("'" + path_.string() + "' line " + std::to_string(line) + ": " + message + "; " + what_);
  }
  double number(const std::string& text, size_t start, size_t width, int line) const {
    if (text.size() < start + 1) fail(line, "the line ends before column " + std::to_string(start + 1));
    const std::string cell = text.substr(start, width);
    const char* begin = cell.c_str();
    char* end = nullptr;
    const double value = std::strtod(begin, &end);
    if (end == begin || cell.find_first_not_of(' ', static_cast<size_t>(end - begin)) != std::string::npos)
      fail(line, "expected a number in columns " + std::to_string(start + 1) + "-" + std::to_string(start + width) +
                     " but found '" + cell + "'");
    return value;
  }

 private:
  fs::path path_;
  std::string what_;
};

}  // namespace

std::string calculix_executable(const CalculixOptions& options) {
  if (!options.executable().empty()) return options.executable();
  const char* env = std::getenv("PHYSIS_CCX");
  return env && *env ? env : "ccx";
}

bool calculix_available(const CalculixOptions& options) {
  try {
    ProcessOptions process;
    process.timeout = 30;
    run_process({calculix_executable(options), "-v"}, process);
    return true;
  } catch (const ProcessStartError&) {
    return false;
  }
}

// --- the deck -----------------------------------------------------------------------------------------------------

void write_inp(const CalculixJob& job, const fs::path& path) {
  const auto& mesh = job.mesh;
  TORCH_CHECK(mesh.nodes.dim() == 2 && (mesh.nodes.size(1) == 2 || mesh.nodes.size(1) == 3),
              "write_inp: expected nodes [M, 2] or [M, 3] but got ", mesh.nodes.sizes());
  TORCH_CHECK(mesh.elements.dim() == 2 && mesh.elements.size(0) > 0, "write_inp: expected elements [E, k] but got ",
              mesh.elements.sizes());
  TORCH_CHECK(job.outputs >= 1, "write_inp: expected at least one output but got ", job.outputs);
  std::ofstream out(path);
  if (!out) throw CalculixError("cannot write '" + path.string() + "' (check that the folder is writable)");
  out.precision(12);
  out << "** " << job.title << ": written by physis (operators/calculix.cpp)\n*HEADING\n" << job.title << "\n";

  const auto nodes = mesh.nodes.to(torch::kFloat64).contiguous();
  const auto* x = nodes.data_ptr<double>();
  const int64_t m = nodes.size(0), d = nodes.size(1);
  out << "*NODE, NSET=NALL\n";
  for (int64_t i = 0; i < m; ++i)
    out << i + 1 << ", " << x[i * d] << ", " << x[i * d + 1] << ", " << (d == 3 ? x[i * d + 2] : 0.0) << "\n";

  const auto elements = mesh.elements.to(torch::kLong).contiguous();
  const auto* e = elements.data_ptr<int64_t>();
  const int64_t k = elements.size(1);
  TORCH_CHECK(elements.min().item<int64_t>() >= 0 && elements.max().item<int64_t>() < m,
              "write_inp: element node rows must lie in [0, ", m, ")");
  out << "*ELEMENT, TYPE=" << mesh.element_type << ", ELSET=EALL\n";
  for (int64_t i = 0; i < elements.size(0); ++i) {
    std::vector<int64_t> row = {i + 1};
    for (int64_t j = 0; j < k; ++j) row.push_back(e[i * k + j] + 1);
    write_numbers(out, row);
  }
  for (const auto& [name, rows] : mesh.node_sets) {
    TORCH_CHECK(!rows.empty(), "write_inp: node set ", name, " is empty");
    out << "*NSET, NSET=" << name << "\n";
    std::vector<int64_t> numbers;
    for (auto r : rows) numbers.push_back(r + 1);
    write_numbers(out, numbers);
  }

  out << "*MATERIAL, NAME=MATERIAL\n*ELASTIC\n" << job.young << ", " << job.poisson << "\n";
  out << "*SOLID SECTION, ELSET=EALL, MATERIAL=MATERIAL\n";
  if (plane_element(mesh.element_type)) out << job.thickness << "\n";
  write_boundaries(out, job.fixed);
  out << "*TIME POINTS, NAME=OUTPUTS\n";
  write_time_points(out, job.outputs);

  out << "*STEP" << (job.nlgeom ? ", NLGEOM" : "") << ", INC=" << job.max_increments << "\n*STATIC\n";
  const double spacing = 1.0 / static_cast<double>(job.outputs);
  const double first = job.initial_increment > 0 ? job.initial_increment : spacing;
  out << first << ", 1.0, " << job.min_increment << ", " << spacing << "\n";
  write_boundaries(out, job.prescribed);
  if (!job.loads.empty()) {
    out << "*CLOAD\n";
    for (const auto& l : job.loads) out << l.node_set << ", " << l.dof << ", " << l.value << "\n";
  }
  out << "*NODE FILE, TIME POINTS=OUTPUTS\nU\n";
  if (!job.reaction_set.empty())
    out << "*NODE PRINT, NSET=" << job.reaction_set << ", TOTALS=ONLY, TIME POINTS=OUTPUTS\nRF\n";
  out << "*END STEP\n";
  if (!out) throw CalculixError("cannot write '" + path.string() + "' (disk full?)");
}

// --- running ccx --------------------------------------------------------------------------------------------------

CalculixResult run_calculix(const CalculixJob& job, const CalculixOptions& options) {
  const std::string executable = calculix_executable(options);
  const fs::path folder = options.folder().empty() ? fresh_job_folder() : options.folder();
  fs::create_directories(folder);
  const fs::path inp = folder / "job.inp", log = folder / "ccx.log";
  const fs::path frd = folder / "job.frd", dat = folder / "job.dat";
  for (const auto& stale : {frd, dat, log}) fs::remove(stale);  // an earlier run's results must not pass for these
  write_inp(job, inp);

  auto fail = [&](const std::string& what) -> CalculixError {
    return CalculixError("CalculiX job '" + inp.string() + "' " + what + " (job files kept in '" + folder.string() +
                         "')");
  };
  ProcessOptions process;
  process.cwd = folder;
  process.log = log;
  process.timeout = options.timeout();
  // ccx is used one process per worker: it must not start threads of its own.
  process.environment = {{"OMP_NUM_THREADS", "1"}, {"CCX_NPROC_EQUATION_SOLVER", "1"}, {"CCX_NPROC_RESULTS", "1"}};
  ProcessResult ran;
  try {
    ran = run_process({executable, "-i", "job"}, process);
  } catch (const ProcessStartError& e) {
    std::error_code ignored;
    if (options.folder().empty()) fs::remove_all(folder, ignored);  // nothing ran: nothing to look at
    throw CalculixError("cannot run the CalculiX solver '" + executable + "' (" + std::strerror(e.code()) +
                        "): install it (Debian: apt-get install calculix-ccx, as scripts/setup does) or set PHYSIS_CCX "
                        "to the path of the ccx executable");
  }
  if (ran.timed_out)
    throw fail("did not finish within " + std::to_string(static_cast<long>(options.timeout())) +
               " s; see its log '" + log.string() + "'");
  const std::string errors = log_errors(read_text(log));
  if (!errors.empty() || !ran.succeeded())
    throw fail("failed (" + ran.describe() + "): " + (errors.empty() ? "no *ERROR in the log" : errors) +
               "; see '" + log.string() + "'");

  CalculixResult result;
  result.seconds = ran.seconds;
  if (!fs::exists(frd))
    throw fail("wrote no results ('" + frd.string() + "' is missing); see '" + log.string() + "'");
  auto displacements = read_frd_displacements(frd, job.mesh.num_nodes());
  result.times = displacements.times;
  result.displacements = displacements.displacements;
  const int64_t outputs = result.times.size(0);
  const double reached = result.times[-1].item<double>();
  if (std::abs(reached - 1.0) > 1e-6 || outputs != job.outputs)
    throw fail("stopped at step time " + std::to_string(reached) + " with " + std::to_string(outputs) + " of " +
               std::to_string(job.outputs) + " outputs (no convergence?); see '" + log.string() + "'");
  if (!job.reaction_set.empty()) {
    auto totals = read_dat_totals(dat, job.reaction_set);
    if (totals.times.size(0) != outputs || !torch::allclose(totals.times, result.times, 0, 1e-6))
      throw fail("printed reaction forces at other times than its displacements; see '" + dat.string() + "'");
    result.reaction = totals.forces;
  }
  if (!options.keep_files()) {
    std::error_code ignored;
    fs::remove_all(folder, ignored);
  }
  return result;
}

// --- result files -------------------------------------------------------------------------------------------------

FrdDisplacements read_frd_displacements(const fs::path& frd, int64_t num_nodes) {
  std::ifstream in(frd);
  if (!in) throw CalculixError("cannot open the CalculiX result file '" + frd.string() + "' (was the job run?)");
  const FixedWidthReader reader(frd, "the file is truncated or not a CalculiX .frd file (rerun the job)");
  std::vector<double> times;
  std::vector<std::vector<double>> blocks;  // [3 * M] per result block, NaN where a node is not listed
  double time = std::numeric_limits<double>::quiet_NaN();
  enum class Block { none, displacement, other } block = Block::none;
  bool finished = false;
  int number = 0;
  std::string line;
  auto is = [&](const char* key) { return line.compare(0, std::strlen(key), key) == 0; };
  while (std::getline(in, line)) {
    ++number;
    if (is("  100C")) {
      time = reader.number(line, 12, 12, number);
      block = Block::other;  // until its " -4" line names it
    } else if (is(" -4") && block != Block::none) {
      if (line.size() < 9) reader.fail(number, "a result block without a name");
      const bool displacement = line.compare(5, 4, "DISP") == 0;
      block = displacement ? Block::displacement : Block::other;
      if (displacement) {
        times.push_back(time);
        blocks.emplace_back(static_cast<size_t>(3 * num_nodes), std::numeric_limits<double>::quiet_NaN());
      }
    } else if (is(" -1") && block == Block::displacement) {
      const auto node = static_cast<int64_t>(reader.number(line, 3, 10, number));
      if (node < 1 || node > num_nodes)
        reader.fail(number, "node " + std::to_string(node) + " is not one of the job's " + std::to_string(num_nodes));
      for (int64_t c = 0; c < 3; ++c)
        blocks.back()[static_cast<size_t>(3 * (node - 1) + c)] = reader.number(line, 13 + 12 * c, 12, number);
    } else if (is(" -3")) {
      if (block == Block::displacement)
        for (double v : blocks.back())
          if (std::isnan(v)) reader.fail(number, "the displacement block ends before listing every node");
      block = Block::none;
    } else if (is(" 9999")) {
      finished = true;
      break;
    }
  }
  if (!finished || block != Block::none)
    reader.fail(number, "the file ends without its closing 9999 line");
  if (times.empty())
    throw CalculixError("'" + frd.string() + "' holds no displacement results; the deck must ask for them with "
                        "*NODE FILE and U");
  FrdDisplacements out;
  out.times = torch::tensor(times, f64);
  auto values = torch::empty({static_cast<int64_t>(blocks.size()), num_nodes, 3}, f64);
  for (size_t t = 0; t < blocks.size(); ++t)
    values[static_cast<int64_t>(t)].copy_(torch::tensor(blocks[t], f64).reshape({num_nodes, 3}));
  out.displacements = values;
  return out;
}

DatTotals read_dat_totals(const fs::path& dat, const std::string& node_set) {
  std::ifstream in(dat);
  if (!in) throw CalculixError("cannot open the CalculiX printout '" + dat.string() + "' (was the job run?)");
  const std::string key = "total force (fx,fy,fz) for set " + node_set + " and time";
  std::vector<double> times, forces;
  std::string line;
  int number = 0;
  bool expect_values = false;
  auto fail = [&](const std::string& what) {
    throw CalculixError("'" + dat.string() + "' line " + std::to_string(number) + ": " + what +
                        "; the file is truncated or not a CalculiX .dat file (rerun the job)");
  };
  while (std::getline(in, line)) {
    ++number;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    if (expect_values) {
      std::istringstream values(line);
      double f[3];
      if (!(values >> f[0] >> f[1] >> f[2])) fail("expected three force components but found '" + line + "'");
      forces.insert(forces.end(), f, f + 3);
      expect_values = false;
      continue;
    }
    const auto at = line.find(key);
    if (at == std::string::npos) continue;
    const std::string rest = line.substr(at + key.size());
    char* end = nullptr;
    const double time = std::strtod(rest.c_str(), &end);
    if (end == rest.c_str()) fail("expected a time after '" + key + "'");
    times.push_back(time);
    expect_values = true;
  }
  if (expect_values) fail("the file ends before the forces of time " + std::to_string(times.back()));
  if (times.empty())
    throw CalculixError("'" + dat.string() + "' holds no total forces of node set " + node_set +
                        "; the deck must ask for them with *NODE PRINT, NSET=" + node_set + ", TOTALS=ONLY and RF");
  const auto count = static_cast<int64_t>(times.size());
  return {torch::tensor(times, f64), torch::tensor(forces, f64).reshape({count, 3})};
}

}  // namespace physis::ops
