// Reaction-diffusion with reaction terms of different functional forms: the multi-task benchmark of MT-DeepONet
// (Kumar et al. 2024), where each task's source term enters the branch as a coefficient vector.
//
//   u_t = D u_xx + c_1 (u - u^2) + c_2 (u - u^3)   on the periodic interval [0, 1), t in [0, T]
//
// c = (a, 0) is Fisher-KPP's logistic reaction, c = (0, a) the cubic (Allen-Cahn/Newell-Whitehead) one; a model
// trained on both learns one operator for the family, and c tells it which member a sample belongs to.
//
//   auto u = solve_fisher(u0 /*[n]*/, {2.0, 0.0}, FisherSolverOptions());   // [times, n] float64
//   Dataset data = generate_fisher(FisherOptions().samples(1000).reaction("all"));
//
// The solver splits the two parts (Strang): half a step of the reaction (classical RK4 at every point), a full
// step of the diffusion (exact for the periodic Laplacian: each Fourier mode decays by exp(-D (2 pi k)^2 dt)),
// half a step of the reaction (adjacent half steps merge between recorded times). It is second order in time
// and spectrally accurate in space.
#pragma once

#include "operators/datagen.h"

#include <torch/arg.h>
#include <torch/types.h>

#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace physis::ops {

struct FisherSolverOptions {
  TORCH_ARG(double, diffusion) = 0.01;   // D
  TORCH_ARG(double, final_time) = 1.0;   // T
  TORCH_ARG(int64_t, steps) = 500;       // time steps over [0, T]; a multiple of times - 1
  TORCH_ARG(int64_t, times) = 51;        // equispaced output times, 0 and T included
};

// The reaction coefficients (c_1, c_2) of the two forms.
using FisherCoefficients = std::array<double, 2>;

// u0 [n] at x_j = j / n -> [times, n] float64, row 0 = u0.
torch::Tensor solve_fisher(const torch::Tensor& u0, const FisherCoefficients& c, const FisherSolverOptions& options);

// The names of the reaction forms, in the order of the coefficient vector: logistic, cubic.
const std::vector<std::string>& fisher_reaction_names();

struct FisherOptions {
  TORCH_ARG(int64_t, samples) = 1000;
  TORCH_ARG(int64_t, points) = 100;          // x grid = the branch's sensors
  TORCH_ARG(std::string, reaction) = "all";  // logistic | cubic | all (the two in turn)
  TORCH_ARG(double, rate_min) = 1.0;         // a ~ U(rate_min, rate_max)
  TORCH_ARG(double, rate_max) = 3.0;
  TORCH_ARG(double, length_scale) = 0.1;     // of the periodic Gaussian field behind u0
  TORCH_ARG(FisherSolverOptions, solver) = {};
  TORCH_ARG(uint64_t, seed) = 0;
  TORCH_ARG(torch::Dtype, dtype) = torch::kFloat32;
};

// Samples: fields u0 [points, 1] at field_coords (x, 0) (u0 = (1 + tanh g) / 2 for a periodic Gaussian field g of unit variance and
// squared-exponential covariance), params c [2], coords (x, t) on the points x times grid (x fastest), targets u.
Dataset generate_fisher(const FisherOptions& options, const GenerationProgress& progress = {});

}  // namespace physis::ops
