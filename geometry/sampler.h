// Points in the unit cube [0, 1)^d from one of four sequences, on the caller's device and dtype.
//
//   Sampler s(SamplerOptions().kind(SamplerKind::sobol).seed(3), torch::kFloat64);
//   auto u = s.uniform(1024, 2);   // [1024, 2]
//
// Geometries turn these unit-cube points into points of their domain, so every geometry gets every sequence.
// Quasi-random sequences (Sobol, Halton) continue where the previous call of the same dimension stopped, so
// repeated draws stay low-discrepancy together.
#pragma once

#include <torch/arg.h>
#include <torch/types.h>

#include <cstdint>
#include <map>
#include <string>

namespace physis::geometry {

enum class SamplerKind { random, latin_hypercube, sobol, halton };

// "random" | "pseudo" | "lhs" | "latin_hypercube" | "sobol" | "halton"; throws GeometryError on anything else.
SamplerKind parse_sampler_kind(const std::string& name);

struct SamplerOptions {
  TORCH_ARG(SamplerKind, kind) = SamplerKind::random;
  TORCH_ARG(uint64_t, seed) = 0;
  // Sobol only: Owen-style random linear scrambling plus digital shift (as torch.quasirandom.SobolEngine).
  TORCH_ARG(bool, scramble) = true;
};

class Sampler {
 public:
  explicit Sampler(SamplerOptions options = {}, torch::TensorOptions tensor_options = torch::kFloat32);

  // [n, d] points in [0, 1)^d.
  torch::Tensor uniform(int64_t n, int64_t d);
  // [n] random permutation from the pseudo-random generator, whatever the kind: quasi-random numbers are too
  // structured to shuffle with (truncating such a "shuffle" biases which points survive).
  torch::Tensor permutation(int64_t n);
  // [n, d] standard normal points (Box-Muller on uniform(), so quasi-random sequences carry over).
  torch::Tensor normal(int64_t n, int64_t d);

  const torch::TensorOptions& options() const { return tensor_options_; }
  const SamplerOptions& sampler_options() const { return options_; }
  // Same sequence kind and seed on another device/dtype, with fresh sequence state.
  Sampler with_options(torch::TensorOptions tensor_options) const { return Sampler(options_, tensor_options); }

 private:
  struct SobolState {
    torch::Tensor direction;  // [d, 30] int64 direction numbers
    torch::Tensor quasi;      // [d] int64 current point
    int64_t generated = 0;
  };
  torch::Tensor pseudo_random(int64_t n, int64_t d);
  torch::Tensor latin_hypercube(int64_t n, int64_t d);
  torch::Tensor sobol(int64_t n, int64_t d);
  torch::Tensor halton(int64_t n, int64_t d);

  SamplerOptions options_;
  torch::TensorOptions tensor_options_;
  at::Generator generator_;
  std::map<int64_t, SobolState> sobol_;
  std::map<int64_t, int64_t> halton_next_;  // next Halton index per dimension
  int64_t draws_ = 0;
};

}  // namespace physis::geometry
