// The `fea` data generator: perforated plane-stress columns under top-displacement compression, meshed with Gmsh
// (6-node triangles) and solved by CalculiX with geometric nonlinearity (operators/calculix.h).
//
//   FeaColumnData out = generate_fea_column(FeaColumnOptions().samples(250).seed(0));
//   for (const auto& f : out.failures) std::cerr << "design " << f.design << ": " << f.reason << "\n";
//   write_dataset(out.data, "data/fea/fea.h5");                 // operators/dataset_io.h
//   write_fea_collection(out, "data/fea/fea.csv");              // a .vtu and a history CSV per design
//
// Design i is drawn uniformly over the ranges below from sample_generator(seed, i), so it depends only on the seed
// and i. Geometry (mm): a column of width 10 and the sampled height, clamped at the bottom (y = 0), with three
// holes stacked around mid-height; the top edge (y = height) is pushed down by `shortening` (u_y prescribed, u_x
// free, so the column buckles sideways once the load passes its critical load) with a small lateral perturbation
// force, both ramped over the step. Designs whose solve fails are reported in `failures` and left out of `data`.
// docs/datagen.md gives the numbers behind the defaults.
#pragma once

#include "operators/calculix.h"
#include "operators/datagen.h"

#include <torch/arg.h>

#include <filesystem>
#include <string>
#include <vector>

namespace physis::ops {

// The design variables, in mm, in this order in Sample::params.
struct ColumnDesign {
  double height = 80;       // [60, 100]
  double hole_radius = 2;   // [1, 2.5]
  double hole_pitch = 15;   // [10, 20]: vertical distance between neighbouring hole centres
  double hole_offset = 0.5; // [0.2, 1.2]: the holes' distance right of the centre line

  std::vector<double> values() const { return {height, hole_radius, hole_pitch, hole_offset}; }
};
const std::vector<std::string>& column_design_names();  // height, hole_radius, hole_pitch, hole_offset
// Lower and upper ends of each design variable's range, in the order of column_design_names().
const std::vector<std::pair<double, double>>& column_design_ranges();
// Design `index` of the stream `seed`: uniform over the ranges.
ColumnDesign sample_column_design(uint64_t seed, int64_t index);

struct FeaColumnOptions {
  TORCH_ARG(int64_t, samples) = 250;
  TORCH_ARG(uint64_t, seed) = 0;
  TORCH_ARG(double, width) = 10;          // mm
  TORCH_ARG(double, thickness) = 1;       // mm, out of plane (plane stress)
  TORCH_ARG(double, mesh_size) = 3;       // mm, the largest element edge; the holes get 12 elements per turn
  TORCH_ARG(double, shortening) = 3;      // mm, the top displacement at the end of the step
  TORCH_ARG(double, perturbation) = 1;    // N, a lateral force on the top edge (ramped with the shortening) that
                                          // picks the buckling direction, as in a perturbed post-buckling analysis
  TORCH_ARG(int64_t, increments) = 20;    // results at load fractions 1/increments, ..., 1
  TORCH_ARG(double, young) = 2000;        // MPa (a stiff polymer)
  TORCH_ARG(double, poisson) = 0.35;
  TORCH_ARG(std::string, executable) = "";       // ccx; empty: $PHYSIS_CCX, else "ccx" on PATH
  TORCH_ARG(std::filesystem::path, job_folder);  // job folders design_NNNN/ go here (failed ones are kept);
                                                 // empty: the temporary folder
  TORCH_ARG(double, timeout) = 300;              // seconds per CalculiX run
  TORCH_ARG(torch::Dtype, dtype) = torch::kFloat32;
};

// The mesh of one design: 6-node triangles (CPS6), node sets BOTTOM and TOP. Needs Gmsh; without it throws
// geometry::GeometryError saying so.
FeMesh mesh_column(const ColumnDesign& design, const FeaColumnOptions& options);
// The CalculiX job of one design on its mesh.
CalculixJob column_job(const ColumnDesign& design, const FeMesh& mesh, const FeaColumnOptions& options);

struct FeaDesignFailure {
  int64_t design = 0;
  std::string reason;
};

struct FeaColumnData {
  // Converged designs in design order. coords [N, 2] undeformed nodes, targets [N, 2] final displacement (ux, uy),
  // params [4] the design, times [T] load fractions, history [T, 1] the compressive force on the top edge (N).
  Dataset data;
  std::vector<int64_t> designs;  // design number of each sample
  std::vector<FeMesh> meshes;    // mesh of each sample
  std::vector<FeaDesignFailure> failures;
};

// Throws (before any solve) when Gmsh or ccx is missing; a design that fails to mesh or solve is a failure.
FeaColumnData generate_fea_column(const FeaColumnOptions& options, const GenerationProgress& progress = {});

// The layout read_vtu_collection reads (operators/dataset_io.h), with a history per design: `csv` has the columns
// file, history and the design variables; file is STEM/design_NNNN.vtu (point arrays displacement [N, 3], ux, uy),
// history is STEM/design_NNNN.csv (columns load_fraction, reaction_force), both beside `csv`. Needs VTK.
void write_fea_collection(const FeaColumnData& generated, const std::filesystem::path& csv);

}  // namespace physis::ops
