// Datasets from files: physis's own layout, foreign arrays (FNO .mat, .npz, .h5 ...) and FEA exports, and the YAML
// `data:` section that picks among them (keys in docs/datasets.md).
//
//   write_dataset(data, "darcy85.h5");                          // .h5/.hdf5 (needs HDF5) or .pt (always)
//   Dataset same = read_dataset("darcy85.h5");                  // exact round trip
//
//   LayoutSpec spec;                                            // FNO's Darcy flow at resolution 85
//   spec.fields = {"coeff"};
//   spec.targets = {"sol"};
//   spec.stride = {5};                                          // x[:, ::5, ::5]: 421 -> 85 points per axis
//   Dataset darcy = assemble(read_arrays("piececonst_r421_N1024_smooth1.mat", {"coeff", "sol"}), spec, "darcy");
//
//   VtuCollectionSpec fea;                                     // a CSV row and a .vtu per design
//   fea.targets = {"stress"};
//   fea.dimension = 2;
//   Dataset designs = read_vtu_collection("designs.csv", fea);
//   Dataset from_yaml = load_dataset(config.child("data"));
//
// Grid arrays: after the sample axis, an array [B, n_1, ..., n_k] or [B, n_1, ..., n_k, c] is a field on a
// regular grid whose LAST spatial axis is x (it varies fastest in memory). A 2-D array [B, n_y, n_x, c] becomes
// per-sample [n_y * n_x, c] in that order, grid_shape {n_x, n_y}, and coordinates (x, y) from grid_coordinates.
// FNO's scripts call the first spatial axis x; on a square [0, 1]^2 grid that only swaps the names of x and y.
#pragma once

#include "core/config.h"
#include "operators/array_io.h"
#include "operators/dataset.h"

#include <filesystem>
#include <string>
#include <vector>

namespace physis::ops {

// --- physis's own layout ------------------------------------------------------------------------------------------
// A file marked by the attribute (HDF5) or string entry (.pt) "physis_dataset", a JSON text with the layout version
// (1), the sample count and the names. Aligned datasets (one set of query points and sensors for all samples,
// every other member of equal shape) store "coords" [N, d] and "field_coords" [S, d] once and "targets" [B, N, c],
// "fields" [B, S, f], "params" [B, P], "mask" [B, N], "times" [B, T], "history" [B, T, g] stacked; others store
// "samples/000012/coords" and so on, one group per sample. Absent optional members are simply not there.
void write_dataset(const Dataset& data, const std::filesystem::path& path);
// Reads a file written by write_dataset and validates it; throws DatasetError for a foreign file (say how its
// arrays map to samples with a LayoutSpec / a `data:` section instead).
Dataset read_dataset(const std::filesystem::path& path);
bool is_physis_dataset(const std::filesystem::path& path);

// --- foreign arrays -----------------------------------------------------------------------------------------------
// How the arrays of a foreign file become samples. Every per-sample array has its samples along `sample_axis`.
// With `coords` ([N, d] shared or [B, N, d] per sample) the other arrays hold N points after the sample axis, as
// [B, N, c] or any [B, n_1, ..., n_k, c] with n_1 * ... * n_k = N. Without it they are grid arrays (see above)
// whose coordinates are generated over `grid_lower`..`grid_upper`.
struct LayoutSpec {
  std::vector<std::string> targets;  // required; channels of several arrays are concatenated in this order
  std::vector<std::string> fields;   // input functions, on the query points (or on `sensors`)
  std::string coords;                // empty: a regular grid
  std::vector<std::string> params;   // [B] or [B, P] each, concatenated
  std::string mask;                  // [B, N] or a grid [B, n_1, ..., n_k]: 1 inside, 0 outside
  std::string sensors;               // [S, d] or [B, S, d]: where `fields` live, when not on the query points
  int64_t sample_axis = 0;
  int64_t spatial_dims = 0;          // grid arrays: number of spatial axes k; 0: the smallest rank - 1 among them
  std::vector<int64_t> stride;       // grid arrays: keep every s-th point, one per spatial axis (array order) or one
                                     // for all; empty: every point. Coordinates follow the kept points.
  int64_t limit = -1;                // keep at most this many samples (the first ones); -1: all
  std::vector<double> grid_lower;    // per coordinate, x first; empty: 0 (one value: every axis)
  std::vector<double> grid_upper;    // per coordinate, x first; empty: 1 (one value: every axis)
  std::vector<std::string> coordinate_names;  // empty: x, y, z (x0, x1, ... beyond 3 dimensions)
};

// Builds the samples (float32) and names; does not validate (load_dataset does). Throws DatasetError naming
// `source` and the array when shapes disagree.
Dataset assemble(const ArrayMap& arrays, const LayoutSpec& spec, const std::string& source);

// --- FEA exports --------------------------------------------------------------------------------------------------
// A CSV with one row per design: a column naming its .vtu file (relative to the CSV's folder) and numeric columns
// of design parameters, optionally a column naming a history CSV. Point arrays of each .vtu become targets/fields;
// coordinates are the points.
struct VtuCollectionSpec {
  std::string file_column = "file";
  std::vector<std::string> targets;  // required: point-array names
  std::vector<std::string> fields;
  std::vector<std::string> params;   // CSV columns; empty: every column but file_column and history_column
  // A column naming a CSV per design (relative to the CSV's folder) whose first column holds the times [T] and
  // whose other columns hold the global history [T, g], named by its header. Read when the CSV has the column.
  std::string history_column = "history";
  int64_t dimension = 3;             // 2: drop z, which must be constant
  int64_t limit = -1;                // first rows only; -1: all
};
Dataset read_vtu_collection(const std::filesystem::path& csv, const VtuCollectionSpec& spec);

// --- configuration ------------------------------------------------------------------------------------------------
// Parses a `data:` section (keys in docs/datasets.md), reads the file, validates the dataset and rejects unknown
// keys. Mistakes in the YAML throw config::ConfigError (file:line:column); problems with the data throw
// DatasetError, prefixed with the location of the section's `file` (or `csv`) key.
Dataset load_dataset(const config::Section& section);

// The optional parts of a sample that can be left out: params, mask, history.
const std::vector<std::string>& droppable_parts();
// The dataset without the parts named (from droppable_parts()): what a section's `drop:` and
// `physis predict --drop` leave out. Throws std::invalid_argument for any other name.
Dataset without_parts(Dataset data, const std::vector<std::string>& parts);

}  // namespace physis::ops
