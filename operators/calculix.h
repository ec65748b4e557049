// CalculiX (ccx) as the finite-element solver of data generators: write an .inp deck, run ccx in a job folder,
// read nodal displacements from its .frd file and total reaction forces from its .dat file.
//
//   CalculixJob job;                                    // a mesh, a material, supports and a ramped load
//   job.mesh = mesh;                                    // FeMesh: nodes [M, 2|3], elements [E, k], node sets
//   job.fixed = {{"BOTTOM", 1, 2}};                     // u_x = u_y = 0 from the start
//   job.prescribed = {{"TOP", 2, 2, -3.0}};             // u_y ramped to -3 over the step
//   job.nlgeom = true;
//   job.outputs = 20;                                   // results at step times 0.05, 0.10, ..., 1
//   job.reaction_set = "TOP";
//   CalculixResult r = run_calculix(job);               // r.displacements [20, M, 3], r.reaction [20, 3]
//
// The executable is CalculixOptions::executable, else $PHYSIS_CCX, else "ccx" on PATH. Every failure is a
// CalculixError naming the file to look at and what to do: ccx missing, a run that stopped (no convergence, an
// input error, a timeout), result files that are missing, truncated or malformed.
// Units are the caller's: CalculiX has none (the FEA generator uses mm, N, MPa).
#pragma once

#include <torch/arg.h>
#include <torch/types.h>

#include <cstdint>
#include <filesystem>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

namespace physis::ops {

class CalculixError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// A mesh of one CalculiX element type.
struct FeMesh {
  torch::Tensor nodes;       // [M, 2] or [M, 3] float64 coordinates
  torch::Tensor elements;    // [E, k] int64 node rows (0-based), in CalculiX's node order for element_type
  std::string element_type;  // CalculiX name: CPS6 (plane stress), CPE6 (plane strain), C3D8, ...
  std::map<std::string, std::vector<int64_t>> node_sets;  // upper-case names -> node rows

  int64_t num_nodes() const { return nodes.size(0); }
};

// Degrees of freedom first_dof..last_dof (1 = x, 2 = y, 3 = z) of every node of a set held at `value`.
struct FeBoundary {
  std::string node_set;
  int first_dof = 1, last_dof = 1;
  double value = 0;
};

// A concentrated force `value` along `dof` on every node of a set (so a set of n nodes carries n * value).
struct FeLoad {
  std::string node_set;
  int dof = 1;
  double value = 0;
};

struct CalculixJob {
  std::string title = "physis";
  FeMesh mesh;
  double young = 1, poisson = 0.3;  // linear elastic (St. Venant-Kirchhoff under NLGEOM)
  double thickness = 1;             // plane-stress/strain elements only
  std::vector<FeBoundary> fixed;       // held at `value` from the start (a model-level *BOUNDARY)
  std::vector<FeBoundary> prescribed;  // ramped from 0 to `value` over the step
  std::vector<FeLoad> loads;           // ramped from 0 to `value` over the step
  bool nlgeom = false;                 // geometric nonlinearity, solved in increments
  int64_t outputs = 1;                 // results at step times 1/outputs, 2/outputs, ..., 1 (the step lasts 1)
  double initial_increment = 0;        // NLGEOM: first increment; 0: 1/outputs
  double min_increment = 1e-5;         // NLGEOM: smallest increment before ccx gives up
  int64_t max_increments = 1000;
  std::string reaction_set;            // node set whose total reaction force is printed; empty: none
};

struct CalculixOptions {
  TORCH_ARG(std::string, executable) = "";  // empty: $PHYSIS_CCX, else "ccx" on PATH
  TORCH_ARG(std::filesystem::path, folder);  // job folder (created); empty: a fresh one in the temporary folder
  TORCH_ARG(bool, keep_files) = false;       // keep the job folder after a success (a failed job's is kept)
  TORCH_ARG(double, timeout) = 600;          // seconds before ccx is killed
};

struct CalculixResult {
  torch::Tensor times;          // [T] step time of each output (the load fraction: the step lasts 1)
  torch::Tensor displacements;  // [T, M, 3] float64, rows as the job's nodes (u_z = 0 for plane elements)
  torch::Tensor reaction;       // [T, 3] total reaction force on the job's reaction_set; undefined without one
  double seconds = 0;           // ccx's wall time
};

// The ccx command run_calculix would use.
std::string calculix_executable(const CalculixOptions& options = {});
// Whether that command starts (runs `ccx -v`).
bool calculix_available(const CalculixOptions& options = {});

// Writes the deck; node and element numbers are rows + 1.
void write_inp(const CalculixJob& job, const std::filesystem::path& path);
// Writes job.inp into the job folder, runs ccx there (one thread) and reads its results.
CalculixResult run_calculix(const CalculixJob& job, const CalculixOptions& options = {});

// Nodal displacements of every result block of an .frd file, [T, M, 3] for nodes 1..M, and the step times [T].
struct FrdDisplacements {
  torch::Tensor times;
  torch::Tensor displacements;
};
FrdDisplacements read_frd_displacements(const std::filesystem::path& frd, int64_t num_nodes);

// The "total force (fx,fy,fz) for set NAME and time T" blocks of a .dat file: times [T] and forces [T, 3].
struct DatTotals {
  torch::Tensor times;
  torch::Tensor forces;
};
DatTotals read_dat_totals(const std::filesystem::path& dat, const std::string& node_set);

}  // namespace physis::ops
