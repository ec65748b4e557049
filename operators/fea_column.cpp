#include "operators/fea_column.h"

#include "core/build_config.h"
#include "core/csv.h"
#include "geometry/error.h"
#include "geometry/vtk_io.h"
#include "operators/grf.h"
#include "operators/sample_workers.h"

#include <charconv>
#include <cstdio>
#include <fstream>
#include <optional>

namespace physis::ops {

namespace fs = std::filesystem;

namespace {

// The shortest text that reads back as the same value of the tensor's dtype ("0.05", not "0.0500000007").
std::string format_value(const torch::Tensor& scalar) {
  if (scalar.scalar_type() != torch::kFloat) return format_number(scalar.item<double>());
  char text[32];
  const auto end = std::to_chars(text, text + sizeof text, scalar.item<float>()).ptr;
  return std::string(text, end);
}

std::string design_name(int64_t design) {
  char name[32];
  std::snprintf(name, sizeof name, "design_%04lld", static_cast<long long>(design));
  return name;
}

using detail::NoState;  // a design needs nothing kept between designs: Gmsh and ccx start afresh for each

// One design's outcome: a sample and its mesh, or why it failed.
struct Outcome {
  std::optional<Sample> sample;
  FeMesh mesh;
  std::string failure;
};

// Each 6-node triangle as four 3-node ones through its midside nodes, [4 E, 3], for viewers that draw linear cells.
torch::Tensor split_triangles(const torch::Tensor& triangles6) {
  auto t = triangles6;
  auto corner = [&](int64_t a, int64_t b, int64_t c) {
    return torch::stack({t.select(1, a), t.select(1, b), t.select(1, c)}, 1);
  };
  return torch::cat({corner(0, 3, 5), corner(3, 1, 4), corner(5, 4, 2), corner(3, 4, 5)}, 0);
}

}  // namespace

const std::vector<std::string>& column_design_names() {
  static const std::vector<std::string> names = {"height", "hole_radius", "hole_pitch", "hole_offset"};
  return names;
}

const std::vector<std::pair<double, double>>& column_design_ranges() {
  static const std::vector<std::pair<double, double>> ranges = {{60, 100}, {1, 2.5}, {10, 20}, {0.2, 1.2}};
  return ranges;
}

ColumnDesign sample_column_design(uint64_t seed, int64_t index) {
  auto generator = sample_generator(seed, index);
  const auto u = torch::rand({4}, generator, torch::kFloat64);
  const auto& ranges = column_design_ranges();
  std::vector<double> v(4);
  for (size_t i = 0; i < 4; ++i)
    v[i] = ranges[i].first + (ranges[i].second - ranges[i].first) * u[static_cast<int64_t>(i)].item<double>();
  return {v[0], v[1], v[2], v[3]};
}

CalculixJob column_job(const ColumnDesign& design, const FeMesh& mesh, const FeaColumnOptions& options) {
  CalculixJob job;
  char title[160];
  std::snprintf(title, sizeof title, "perforated column: height %.4g, hole radius %.4g, pitch %.4g, offset %.4g mm",
                design.height, design.hole_radius, design.hole_pitch, design.hole_offset);
  job.title = title;
  job.mesh = mesh;
  job.young = options.young();
  job.poisson = options.poisson();
  job.thickness = options.thickness();
  job.fixed = {{"BOTTOM", 1, 2, 0.0}};
  job.prescribed = {{"TOP", 2, 2, -options.shortening()}};
  const auto top_nodes = static_cast<double>(mesh.node_sets.at("TOP").size());
  if (options.perturbation() != 0) job.loads = {{"TOP", 1, options.perturbation() / top_nodes}};
  job.nlgeom = true;
  job.outputs = options.increments();
  job.reaction_set = "TOP";
  return job;
}

FeaColumnData generate_fea_column(const FeaColumnOptions& options, const GenerationProgress& progress) {
  TORCH_CHECK(options.increments() >= 1, "fea: expected at least one increment but got ", options.increments());
  if (!PHYSIS_HAVE_GMSH)
    throw std::runtime_error("fea: this physis build lacks Gmsh, which meshes the designs; install libgmsh-dev and "
                             "reconfigure with -DPHYSIS_GMSH=ON (nothing was generated)");
  const auto ccx = CalculixOptions().executable(options.executable());
  if (!calculix_available(ccx))
    throw CalculixError("fea: cannot run the CalculiX solver '" + calculix_executable(ccx) +
                        "': install it (Debian: apt-get install calculix-ccx, as scripts/setup does) or set "
                        "PHYSIS_CCX to the path of the ccx executable (nothing was generated)");

  auto make = [&](NoState&, int64_t design_index) {
    const ColumnDesign design = sample_column_design(options.seed(), design_index);
    Outcome outcome;
    try {
      outcome.mesh = mesh_column(design, options);
      auto run = CalculixOptions(ccx).timeout(options.timeout());
      if (!options.job_folder().empty()) run.folder(options.job_folder() / design_name(design_index));
      const auto result = run_calculix(column_job(design, outcome.mesh, options), run);
      // The outputs fall on the load fractions k / T to ccx's printing precision; store them exactly.
      const auto steps = options.increments();
      const auto fractions = torch::arange(1, steps + 1, torch::kFloat64) / static_cast<double>(steps);
      if (!torch::allclose(result.times, fractions, 0, 1e-4))
        throw CalculixError("design " + std::to_string(design_index) + ": CalculiX wrote results at other load "
                            "fractions than k / " + std::to_string(steps));
      Sample s;
      const auto dtype = options.dtype();
      s.coords = outcome.mesh.nodes.to(dtype);                                               // [N, 2]
      s.targets = result.displacements[-1].narrow(1, 0, 2).to(dtype).contiguous();          // [N, 2]
      s.params = torch::tensor(design.values(), torch::kFloat64).to(dtype);                  // [4]
      s.times = fractions.to(dtype);                                                         // [T]
      s.history = (-result.reaction.select(1, 1)).unsqueeze(1).to(dtype).contiguous();       // [T, 1]
      outcome.sample = std::move(s);
    } catch (const CalculixError& e) {
      outcome.failure = e.what();
    } catch (const geometry::GeometryError& e) {
      outcome.failure = e.what();
    }
    return outcome;
  };
  auto outcomes = detail::generate_samples(options.samples(), [] { return NoState{}; }, make, progress);

  FeaColumnData out;
  for (int64_t i = 0; i < static_cast<int64_t>(outcomes.size()); ++i) {
    auto& o = outcomes[static_cast<size_t>(i)];
    if (!o.sample) {
      out.failures.push_back({i, o.failure});
      continue;
    }
    out.data.samples.push_back(std::move(*o.sample));
    out.designs.push_back(i);
    out.meshes.push_back(std::move(o.mesh));
  }
  out.data.coordinate_names = {"x", "y"};
  out.data.target_names = {"ux", "uy"};
  out.data.param_names = column_design_names();
  out.data.history_names = {"reaction_force"};
  out.data.source = "fea";
  return out;
}

void write_fea_collection(const FeaColumnData& generated, const fs::path& csv) {
  const fs::path folder = csv.has_parent_path() ? csv.parent_path() : fs::path(".");
  const std::string stem = csv.stem().string();
  fs::create_directories(folder / stem);
  std::ofstream table(csv);
  if (!table) throw std::runtime_error("cannot write '" + csv.string() + "' (check that the folder is writable)");
  table << "file,history";
  for (const auto& name : generated.data.param_names) table << "," << name;
  table << "\n";
  for (size_t i = 0; i < generated.designs.size(); ++i) {
    const auto& sample = generated.data.samples[i];
    const auto& mesh = generated.meshes[i];
    const std::string name = design_name(generated.designs[i]);
    const std::string vtu = stem + "/" + name + ".vtu", history = stem + "/" + name + ".csv";

    geometry::Mesh triangles;
    triangles.dim = 2;
    triangles.nodes = mesh.nodes;
    triangles.cells = split_triangles(mesh.elements);
    const auto u = sample.targets.to(torch::kFloat64);                                // [N, 2]
    const auto u3 = torch::cat({u, torch::zeros({u.size(0), 1}, u.options())}, 1);  // [N, 3] for ParaView's warp
    geometry::write_vtu((folder / vtu).string(), triangles,
                        {{"displacement", u3}, {"ux", u.select(1, 0)}, {"uy", u.select(1, 1)}});

    std::ofstream h(folder / history);
    h << "load_fraction," << generated.data.history_names.at(0) << "\n";
    for (int64_t t = 0; t < sample.times.size(0); ++t)
      h << format_value(sample.times[t]) << "," << format_value(sample.history[t][0]) << "\n";
    if (!h) throw std::runtime_error("cannot write '" + (folder / history).string() + "'");

    table << vtu << "," << history;
    for (int64_t p = 0; p < sample.params.size(0); ++p) table << "," << format_value(sample.params[p]);
    table << "\n";
  }
  if (!table) throw std::runtime_error("cannot write '" + csv.string() + "' (disk full?)");
}

}  // namespace physis::ops
