// Reproducible data generators for operator learning: each returns an ops::Dataset (see operators/dataset.h).
//
//   Dataset data = generate_darcy(DarcyOptions().samples(1200).seed(0));   // FNO Darcy, 85 x 85
//   auto [train, test] = data.split(1000);
//
// Sample i is drawn from its own generator, sample_generator(seed, i) (operators/grf.h), and computed serially in
// float64 on one of the intra-op threads: the same seed gives bitwise the same dataset for any thread count, and
// the first k samples do not depend on how many are drawn. Tensors are stored as `dtype` (float32 by default).
// docs/datagen.md describes each generator, its defaults and their sources.
#pragma once

#include "operators/dataset.h"

#include <torch/arg.h>
#include <torch/types.h>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace physis::ops {

// Called on the calling thread between batches of samples with the number done so far; it may throw to stop
// the generation (the exception propagates out of the generator).
using GenerationProgress = std::function<void(int64_t done, int64_t total)>;

// --- Antiderivative (DeepONet, Lu et al. 2021): s(x) = integral_0^x u, u ~ GP(0, RBF kernel, l = 0.2) on [0, 1].
struct AntiderivativeOptions {
  TORCH_ARG(int64_t, samples) = 1000;
  TORCH_ARG(int64_t, sensors) = 100;         // equispaced branch inputs on [0, 1]: fields [sensors, 1]
  TORCH_ARG(int64_t, queries) = 100;         // query points per sample: coords, targets [queries, 1]
  TORCH_ARG(bool, random_queries) = false;   // false: every sample shares an equispaced grid (aligned)
  TORCH_ARG(double, length_scale) = 0.2;
  TORCH_ARG(int64_t, refine) = 10;           // integration grid: `refine` intervals per sensor interval (even)
  TORCH_ARG(uint64_t, seed) = 0;
  TORCH_ARG(torch::Dtype, dtype) = torch::kFloat32;
};
Dataset generate_antiderivative(const AntiderivativeOptions& options, const GenerationProgress& progress = {});

// The running integral of `values` [M] sampled every `h` from 0: [M] float64 with s[0] = 0, composite Simpson at
// even nodes and Simpson's 3-point interval rule at odd ones (local error O(h^4)).
torch::Tensor cumulative_integral(const torch::Tensor& values, double h);
// Cubic Hermite interpolation of s from its values and derivatives at the nodes 0, h, 2h, ...: s(x) for x [N].
torch::Tensor hermite_interpolate(const torch::Tensor& s, const torch::Tensor& ds, double h, const torch::Tensor& x);

// --- Darcy flow (FNO, Li et al. 2021): -div(a grad u) = 1 on [0, 1]^2, u = 0 on the boundary,
// a = high where the FNO field (alpha 2, tau 3) >= 0, low elsewhere.
struct DarcyOptions {
  TORCH_ARG(int64_t, samples) = 1200;           // the first 1000 for training, the rest for testing
  TORCH_ARG(int64_t, solve_resolution) = 85;    // vertices per side of the finite-difference grid
  TORCH_ARG(int64_t, output_resolution) = 85;   // every ((solve - 1) / (output - 1))-th vertex is kept
  TORCH_ARG(double, alpha) = 2.0;
  TORCH_ARG(double, tau) = 3.0;
  TORCH_ARG(double, high) = 12.0;
  TORCH_ARG(double, low) = 3.0;
  TORCH_ARG(std::string, solver) = "direct";    // direct | cg (DarcySolverOptions::method)
  TORCH_ARG(uint64_t, seed) = 0;
  TORCH_ARG(torch::Dtype, dtype) = torch::kFloat32;
};
Dataset generate_darcy(const DarcyOptions& options, const GenerationProgress& progress = {});

// --- Darcy flow on several geometries (MT-DeepONet, Kumar et al. 2024).
// lshape and frame (re-entrant corners, like the held-out cross) are extra pre-training geometries.
enum class DarcyGeometry { square, circle, triangle, cross, lshape, frame };
const std::vector<std::string>& darcy_geometry_names();  // in the enum's order (the one-hot order)
DarcyGeometry parse_darcy_geometry(const std::string& name);  // throws std::invalid_argument listing the names
// [n, n] float (1 = the closed domain, 0 outside) of a geometry on the n x n vertex grid over [0, 1]^2.
torch::Tensor darcy_geometry_mask(DarcyGeometry geometry, int64_t n);
// [n, n] float64: the geometry's approximate distance function (geometry layer, 0 on its boundary) on the same
// vertices, 0 outside the mask. A model's `output_factor` takes it to make predictions vanish on the boundary.
torch::Tensor darcy_geometry_distance(DarcyGeometry geometry, int64_t n);
// The exact area of a geometry.
double darcy_geometry_area(DarcyGeometry geometry);

struct DarcyMultiGeometryOptions {
  TORCH_ARG(int64_t, samples) = 1200;
  TORCH_ARG(int64_t, resolution) = 100;
  TORCH_ARG(std::string, geometry) = "all";     // one of darcy_geometry_names() | all (square, circle and
                                                // triangle in turn; the cross is held out for transfer)
  TORCH_ARG(double, log_std) = 1.0;             // pointwise standard deviation of log a
  TORCH_ARG(double, alpha) = 2.0;
  TORCH_ARG(double, tau) = 3.0;
  TORCH_ARG(std::string, solver) = "direct";
  TORCH_ARG(uint64_t, seed) = 0;
  TORCH_ARG(torch::Dtype, dtype) = torch::kFloat32;
};
Dataset generate_darcy_multigeometry(const DarcyMultiGeometryOptions& options,
                                     const GenerationProgress& progress = {});

}  // namespace physis::ops
