#include "pinn/field_output.h"

#include "core/build_config.h"
#include "core/checkpoint.h"
#include "core/csv.h"
#include "core/messages.h"

#include <unistd.h>

#include <algorithm>
#include <functional>
#include <iomanip>
#include <iostream>
#include <limits>
#include <mutex>
#include <sstream>

namespace physis::pinn {

namespace fs = std::filesystem;
using geometry::NamedArrays;

namespace {

torch::Tensor as_columns(const torch::Tensor& t) {  // [N] or [N, m] -> [N, m] float64 on the CPU
  auto c = t.detach().to(torch::kCPU, torch::kFloat64);
  return (c.dim() == 1 ? c.unsqueeze(1) : c).contiguous();
}

std::vector<std::string> coordinate_names(const FieldSet& fields, int64_t d) {
  if (!fields.coordinates.empty()) {
    TORCH_CHECK(static_cast<int64_t>(fields.coordinates.size()) == d, "FieldSet: ", fields.coordinates.size(),
                " coordinate names for points with ", d, " columns");
    return fields.coordinates;
  }
  std::vector<std::string> names;
  for (int64_t i = 0; i < d; ++i)
    names.push_back(d <= 3 ? std::string(1, "xyz"[i]) : std::string("x").append(std::to_string(i)));
  return names;
}

// Says once per process that ParaView files are skipped, so a long run's log is not flooded.
bool vtk_available() {
  if (PHYSIS_HAVE_VTK) return true;
  static std::once_flag noted;
  std::call_once(noted, [] {
    note("physis was built without VTK, so fields are written as CSV only (install libvtk9-dev and reconfigure "
         "for ParaView files)");
  });
  return false;
}

// VTK writes in place, so it writes a hidden temporary file that is renamed over `path` once complete: a killed
// run never leaves a truncated file that ParaView would half-read.
void write_then_rename(const fs::path& path, const std::function<void(const std::string&)>& write) {
  const auto folder = path.has_parent_path() ? path.parent_path() : fs::path(".");
  fs::create_directories(folder);
  const auto tmp =
      folder / std::string(".").append(path.filename().string()).append(".tmp.").append(std::to_string(::getpid()));
  try {
    write(tmp.string());
    fs::rename(tmp, path);
  } catch (...) {
    std::error_code ignored;
    fs::remove(tmp, ignored);
    throw;
  }
}

// The arrays with NaN where `valid` is false, plus `valid` itself as 0/1.
NamedArrays masked(const NamedArrays& arrays, const torch::Tensor& valid) {
  NamedArrays out;
  const auto nan = torch::full({}, std::numeric_limits<double>::quiet_NaN(), torch::kFloat64);
  for (const auto& [name, values] : arrays) out.emplace_back(name, torch::where(valid, values, nan));
  out.emplace_back("valid", valid.to(torch::kFloat64));
  return out;
}

void write_grid_vti(const fs::path& path, const EvaluationGrid& grid, const NamedArrays& arrays) {
  write_then_rename(path, [&](const std::string& tmp) {
    geometry::write_vti(tmp, grid.origin, grid.spacing, grid.dims, masked(arrays, grid.valid));
  });
}

std::string slice_name(const std::string& stem, size_t index, const char* extension) {
  std::ostringstream name;
  name << stem << "_" << std::setw(4) << std::setfill('0') << index << extension;
  return name.str();
}

}  // namespace

EvaluationGrid make_grid(const geometry::BoundingBox& box, const std::vector<int64_t>& resolution) {
  const size_t d = box.lower.size();
  TORCH_CHECK(d >= 1 && box.upper.size() == d, "make_grid: box corners of different lengths");
  TORCH_CHECK(resolution.size() == 1 || resolution.size() == d, "make_grid: resolution needs 1 or ", d,
              " entries but got ", resolution.size());
  EvaluationGrid grid;
  std::vector<torch::Tensor> axes;  // reversed (z, y, x) so that a row-major flatten runs x fastest
  for (size_t i = 0; i < d; ++i) {
    const int64_t n = resolution.size() == 1 ? resolution.front() : resolution[i];
    TORCH_CHECK(n >= 1, "make_grid: resolution must be positive but got ", n);
    grid.origin.push_back(box.lower[i]);
    grid.spacing.push_back(n > 1 ? (box.upper[i] - box.lower[i]) / static_cast<double>(n - 1) : 0.0);
    grid.dims.push_back(n);
    axes.insert(axes.begin(), torch::linspace(box.lower[i], box.upper[i], n, torch::kFloat64));
  }
  auto mesh = torch::meshgrid(axes, "ij");  // each [n_z, n_y, n_x]
  std::vector<torch::Tensor> columns;
  for (auto it = mesh.rbegin(); it != mesh.rend(); ++it) columns.push_back(it->reshape({-1}));
  grid.points = torch::stack(columns, 1);  // [N, d]
  grid.valid = torch::ones({grid.points.size(0)}, torch::kBool);
  return grid;
}

EvaluationGrid make_grid(const geometry::Geometry& domain, const std::vector<int64_t>& resolution) {
  auto grid = make_grid(domain.bounding_box(), resolution);
  grid.valid = domain.inside(grid.points).to(torch::kCPU, torch::kBool);
  return grid;
}

torch::Tensor space_time_points(const EvaluationGrid& grid, const std::vector<double>& times) {
  std::vector<torch::Tensor> slices;
  for (double t : times)
    slices.push_back(torch::cat({grid.points, torch::full({grid.size(), 1}, t, torch::kFloat64)}, 1));  // [N, d+1]
  return torch::cat(slices);  // [T * N, d + 1]
}

NamedArrays field_arrays(const FieldSet& fields) {
  const auto prediction = as_columns(fields.prediction);  // [N, m]
  TORCH_CHECK(prediction.size(1) == static_cast<int64_t>(fields.outputs.size()), "FieldSet: ",
              fields.outputs.size(), " output names for prediction ", fields.prediction.sizes());
  torch::Tensor reference;
  if (fields.reference.defined()) {
    reference = as_columns(fields.reference);
    TORCH_CHECK(reference.sizes() == prediction.sizes(), "FieldSet: reference ", fields.reference.sizes(),
                " does not match prediction ", fields.prediction.sizes());
  }
  NamedArrays arrays;
  for (size_t j = 0; j < fields.outputs.size(); ++j) {
    const auto& name = fields.outputs[j];
    const auto u = prediction.select(1, static_cast<int64_t>(j));
    arrays.emplace_back(name, u.contiguous());
    if (!reference.defined()) continue;
    const auto u_ref = reference.select(1, static_cast<int64_t>(j)).contiguous();
    arrays.emplace_back(name + "_ref", u_ref);
    arrays.emplace_back(name + "_err", (u - u_ref).abs());
  }
  return arrays;
}

void write_field_csv(const fs::path& path, const FieldSet& fields, const torch::Tensor& keep) {
  const auto points = as_columns(fields.points);  // [N, d]
  std::vector<std::string> header = coordinate_names(fields, points.size(1));
  std::vector<torch::Tensor> columns{points};
  for (const auto& [name, values] : field_arrays(fields)) {
    header.push_back(name);
    columns.push_back(values.unsqueeze(1));
  }
  auto table = torch::cat(columns, 1);  // [N, d + arrays]
  if (keep.defined()) table = table.index({keep.to(torch::kCPU, torch::kBool)});
  table = table.contiguous();
  atomic_write(path, [&](std::ostream& out) {
    for (size_t c = 0; c < header.size(); ++c) out << (c ? "," : "") << header[c];
    out << "\n";
    const double* row = table.data_ptr<double>();
    for (int64_t r = 0; r < table.size(0); ++r, row += table.size(1)) {
      for (int64_t c = 0; c < table.size(1); ++c) out << (c ? "," : "") << format_number(row[c]);
      out << "\n";
    }
  });
}

std::vector<fs::path> write_grid_fields(const fs::path& folder, const std::string& stem, const EvaluationGrid& grid,
                                        const FieldSet& fields) {
  FieldSet on_grid = fields;
  if (!on_grid.points.defined()) on_grid.points = grid.points;
  TORCH_CHECK(on_grid.points.size(0) == grid.size(), "write_grid_fields: ", on_grid.points.size(0),
              " rows for a grid of ", grid.size(), " nodes");
  std::vector<fs::path> written;
  if (vtk_available()) {
    write_grid_vti(folder / (stem + ".vti"), grid, field_arrays(on_grid));
    written.push_back(folder / (stem + ".vti"));
  }
  write_field_csv(folder / (stem + ".csv"), on_grid, grid.valid);
  written.push_back(folder / (stem + ".csv"));
  return written;
}

std::vector<fs::path> write_point_fields(const fs::path& folder, const std::string& stem, const FieldSet& fields) {
  std::vector<fs::path> written;
  if (vtk_available()) {
    const auto path = folder / (stem + ".vtu");
    write_then_rename(path, [&](const std::string& tmp) {
      geometry::write_vtu(tmp, fields.points, field_arrays(fields));
    });
    written.push_back(path);
  }
  write_field_csv(folder / (stem + ".csv"), fields);
  written.push_back(folder / (stem + ".csv"));
  return written;
}

std::vector<fs::path> write_mesh_fields(const fs::path& folder, const std::string& stem, const geometry::Mesh& mesh,
                                        const FieldSet& fields) {
  FieldSet on_mesh = fields;
  if (!on_mesh.points.defined()) on_mesh.points = mesh.nodes.slice(1, 0, mesh.dim);
  TORCH_CHECK(on_mesh.points.size(0) == mesh.nodes.size(0), "write_mesh_fields: ", on_mesh.points.size(0),
              " rows for a mesh of ", mesh.nodes.size(0), " nodes");
  std::vector<fs::path> written;
  if (vtk_available()) {
    const auto path = folder / (stem + ".vtu");
    write_then_rename(path, [&](const std::string& tmp) { geometry::write_vtu(tmp, mesh, field_arrays(on_mesh)); });
    written.push_back(path);
  }
  write_field_csv(folder / (stem + ".csv"), on_mesh);
  written.push_back(folder / (stem + ".csv"));
  return written;
}

std::vector<fs::path> write_transient_fields(const fs::path& folder, const std::string& stem, const FieldSet& fields,
                                             const std::string& time, const EvaluationGrid* spatial_grid) {
  const auto points = as_columns(fields.points);  // [N, d]
  const auto names = coordinate_names(fields, points.size(1));
  const auto it = std::find(names.begin(), names.end(), time);
  TORCH_CHECK(it != names.end(), "write_transient_fields: no coordinate called '", time, "' among the ",
              names.size(), " coordinates");
  const int64_t time_column = it - names.begin();
  std::vector<int64_t> space_columns;
  for (int64_t c = 0; c < points.size(1); ++c)
    if (c != time_column) space_columns.push_back(c);

  const auto t = points.select(1, time_column);                                        // [N]
  const auto times = std::get<0>(torch::_unique2(t, /*sorted=*/true, false, false));  // [T] ascending
  const auto arrays = field_arrays(fields);
  const bool write_vtk = vtk_available();
  auto keep = torch::ones({points.size(0)}, torch::kBool);  // CSV rows: grid nodes inside the domain
  std::vector<std::pair<double, std::string>> series;
  std::vector<fs::path> written;
  for (int64_t s = 0; s < times.size(0); ++s) {
    const double t_s = times[s].item<double>();
    const auto rows = (t == t_s).nonzero().squeeze(1);  // [N_s] in input order
    if (spatial_grid) {
      TORCH_CHECK(rows.size(0) == spatial_grid->size(), "write_transient_fields: time ", t_s, " has ", rows.size(0),
                  " rows for a grid of ", spatial_grid->size(), " nodes");
      keep.index_put_({rows}, spatial_grid->valid);
    }
    if (!write_vtk) continue;
    NamedArrays slice;
    for (const auto& [name, values] : arrays) slice.emplace_back(name, values.index_select(0, rows));
    const auto file = slice_name(stem, static_cast<size_t>(s), spatial_grid ? ".vti" : ".vtu");
    if (spatial_grid) {
      write_grid_vti(folder / file, *spatial_grid, slice);
    } else {
      const auto space = points.index_select(0, rows).index_select(1, torch::tensor(space_columns));  // [N_s, d-1]
      write_then_rename(folder / file, [&](const std::string& tmp) { geometry::write_vtu(tmp, space, slice); });
    }
    series.emplace_back(t_s, file);
    written.push_back(folder / file);
  }
  if (write_vtk) {
    const auto pvd = folder / (stem + ".pvd");
    write_then_rename(pvd, [&](const std::string& tmp) { geometry::write_pvd(tmp, series); });
    written.push_back(pvd);
  }
  write_field_csv(folder / (stem + ".csv"), fields, keep);
  written.push_back(folder / (stem + ".csv"));
  return written;
}

}  // namespace physis::pinn
