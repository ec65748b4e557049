// Results for ParaView: prediction, reference and error fields at points, written as VTK XML files (.vti for a
// regular grid, .vtu for scattered points or a mesh, one file per time plus a .pvd for transient problems) and
// always as a CSV of the same table.
//
//   auto grid = make_grid(*domain, {201, 201});                    // nodes outside the domain: valid = false
//   FieldSet f{.points = grid.points, .coordinates = {"x", "y"}, .outputs = {"u"},
//              .prediction = model(grid.points.to(rt.options())), .reference = exact_u};
//   write_grid_fields(out_dir, "solution", grid, f);            // solution.vti (u, u_ref, u_err, valid) + .csv
//
// Grid nodes outside the geometry keep their place in the .vti (an image must be complete) with NaN fields and
// valid = 0, so ParaView's Threshold on `valid` shows the domain alone; the CSV leaves those rows out.
// Without VTK (PHYSIS_HAVE_VTK == 0) only the CSV is written and a one-line note says so.
#pragma once

#include "geometry/geometry.h"
#include "geometry/mesh.h"
#include "geometry/vtk_io.h"

#include <torch/types.h>

#include <filesystem>
#include <string>
#include <vector>

namespace physis::pinn {

// A regular grid of evaluation points over a box, x fastest (the order of VTK images).
struct EvaluationGrid {
  std::vector<double> origin;   // lower corner
  std::vector<double> spacing;  // node distance per axis (0 for an axis with one node)
  std::vector<int64_t> dims;    // nodes per axis
  torch::Tensor points;         // [N, d] float64 on the CPU, N = prod(dims)
  torch::Tensor valid;          // [N] bool: inside the geometry (all true for a bare box)

  int64_t size() const { return points.size(0); }
};

// Nodes spanning `box` with `resolution` nodes per axis (one number: the same on every axis).
EvaluationGrid make_grid(const geometry::BoundingBox& box, const std::vector<int64_t>& resolution);
// The same over the geometry's bounding box, with valid = geometry.inside.
EvaluationGrid make_grid(const geometry::Geometry& domain, const std::vector<int64_t>& resolution);

// [T * N, d + 1] points (grid node, t) for every time, time-major, t last: what write_transient_fields expects
// with a spatial grid.
torch::Tensor space_time_points(const EvaluationGrid& grid, const std::vector<double>& times);

// Named outputs at points, with an optional reference.
struct FieldSet {
  torch::Tensor points;                  // [N, d]; any device and dtype
  std::vector<std::string> coordinates;  // d names, e.g. {"x", "y", "t"}; empty: x, y, z (x0, x1, ... above 3)
  std::vector<std::string> outputs;      // m names, e.g. {"u", "v", "p"}
  torch::Tensor prediction;              // [N, m] (or [N] for one output)
  torch::Tensor reference;               // [N, m] or undefined
};

// Point arrays of the table, in order: for each output u, then u_ref and u_err = |u - u_ref| when a reference is
// given. Each [N] float64 on the CPU.
geometry::NamedArrays field_arrays(const FieldSet& fields);

// <stem>.vti over the grid (plus `valid`, 1 inside / 0 outside, with NaN fields outside) and <stem>.csv.
// fields.points may be left undefined: the grid's points are meant. Returns the files written.
std::vector<std::filesystem::path> write_grid_fields(const std::filesystem::path& folder, const std::string& stem,
                                                     const EvaluationGrid& grid, const FieldSet& fields);

// <stem>.vtu of the points as vertices (d <= 3) and <stem>.csv.
std::vector<std::filesystem::path> write_point_fields(const std::filesystem::path& folder, const std::string& stem,
                                                      const FieldSet& fields);

// <stem>.vtu of the mesh's cells with the fields at its nodes (fields.points: the nodes, or undefined) and
// <stem>.csv.
std::vector<std::filesystem::path> write_mesh_fields(const std::filesystem::path& folder, const std::string& stem,
                                                     const geometry::Mesh& mesh, const FieldSet& fields);

// A transient problem: the coordinate called `time` splits the rows into slices, one file per distinct time,
// <stem>_0000.vti (rows of a slice in the order of `spatial_grid`, as space_time_points makes them) or
// <stem>_0000.vtu (scattered points, no grid), a <stem>.pvd listing them, and one <stem>.csv of all rows.
std::vector<std::filesystem::path> write_transient_fields(const std::filesystem::path& folder, const std::string& stem,
                                                          const FieldSet& fields, const std::string& time = "t",
                                                          const EvaluationGrid* spatial_grid = nullptr);

// The table as CSV (coordinates, then field_arrays), written atomically; rows where `keep` is false are left out
// (keep undefined: all rows).
void write_field_csv(const std::filesystem::path& path, const FieldSet& fields,
                     const torch::Tensor& keep = torch::Tensor());

}  // namespace physis::pinn
