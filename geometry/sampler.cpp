#include "geometry/sampler.h"

#include "geometry/error.h"

#include <ATen/CPUGeneratorImpl.h>

#include <cmath>
#include <mutex>
#include <vector>

namespace physis::geometry {

namespace {

// LibTorch's Sobol engine (the one behind torch.quasirandom.SobolEngine) has direction numbers for these sizes.
constexpr int64_t kSobolMaxDim = 21201;
constexpr int64_t kSobolMaxBit = 30;

at::Generator seeded_generator(const torch::Device& device, uint64_t seed) {
  at::Generator generator = at::globalContext().defaultGenerator(device).clone();
  std::lock_guard<std::mutex> lock(generator.mutex());
  generator.set_current_seed(seed);
  return generator;
}

// The first `count` primes (Halton bases), by a sieve sized from the prime-counting estimate.
std::vector<int64_t> first_primes(int64_t count) {
  const double n = std::max<double>(count, 6);
  const auto limit = static_cast<int64_t>(n * (std::log(n) + std::log(std::log(n)))) + 10;
  std::vector<bool> composite(limit + 1, false);
  std::vector<int64_t> primes;
  primes.reserve(count);
  for (int64_t p = 2; p <= limit && static_cast<int64_t>(primes.size()) < count; ++p) {
    if (composite[p]) continue;
    primes.push_back(p);
    for (int64_t q = p * p; q <= limit; q += p) composite[q] = true;
  }
  return primes;
}

}  // namespace

SamplerKind parse_sampler_kind(const std::string& name) {
  if (name == "random" || name == "pseudo" || name == "uniform") return SamplerKind::random;
  if (name == "lhs" || name == "latin_hypercube") return SamplerKind::latin_hypercube;
  if (name == "sobol") return SamplerKind::sobol;
  if (name == "halton") return SamplerKind::halton;
  throw GeometryError("unknown sampler '" + name + "': use random, lhs, sobol or halton");
}

Sampler::Sampler(SamplerOptions options, torch::TensorOptions tensor_options)
    : options_(options),
      tensor_options_(tensor_options),
      generator_(seeded_generator(tensor_options.device(), options.seed())) {}

torch::Tensor Sampler::uniform(int64_t n, int64_t d) {
  if (n < 0 || d < 1) throw GeometryError("Sampler::uniform needs n >= 0 and d >= 1, got n=" + std::to_string(n) +
                                          ", d=" + std::to_string(d));
  ++draws_;
  switch (options_.kind()) {
    case SamplerKind::random: return pseudo_random(n, d);
    case SamplerKind::latin_hypercube: return latin_hypercube(n, d);
    case SamplerKind::sobol: return sobol(n, d);
    case SamplerKind::halton: return halton(n, d);
  }
  throw GeometryError("unreachable sampler kind");
}

torch::Tensor Sampler::normal(int64_t n, int64_t d) {
  // Box-Muller: pairs of uniform columns become pairs of independent normals.
  const int64_t pairs = (d + 1) / 2;
  auto u = uniform(n, 2 * pairs).to(torch::kFloat64);                 // [n, 2p]
  auto radius = torch::sqrt(-2.0 * torch::log1p(-u.slice(1, 0, pairs).clamp_max(1.0 - 1e-16)));  // [n, p]
  auto angle = 2.0 * M_PI * u.slice(1, pairs, 2 * pairs);                                       // [n, p]
  auto z = torch::cat({radius * torch::cos(angle), radius * torch::sin(angle)}, 1);            // [n, 2p]
  return z.slice(1, 0, d).to(tensor_options_.dtype());
}

torch::Tensor Sampler::permutation(int64_t n) {
  return torch::randperm(n, generator_, tensor_options_.dtype(torch::kLong));
}

torch::Tensor Sampler::pseudo_random(int64_t n, int64_t d) {
  return torch::rand({n, d}, generator_, tensor_options_);
}

torch::Tensor Sampler::latin_hypercube(int64_t n, int64_t d) {
  // One random permutation of the n strata per dimension, a uniform offset inside each stratum.
  auto keys = torch::rand({n, d}, generator_, tensor_options_);
  auto strata = keys.argsort(/*stable=*/false, /*dim=*/0, /*descending=*/false);      // [n, d]
  auto offset = torch::rand({n, d}, generator_, tensor_options_);                     // [n, d]
  return (strata.to(tensor_options_.dtype()) + offset) / static_cast<double>(std::max<int64_t>(n, 1));
}

torch::Tensor Sampler::sobol(int64_t n, int64_t d) {
  if (d > kSobolMaxDim)
    throw GeometryError("Sobol sampling supports at most " + std::to_string(kSobolMaxDim) + " dimensions, got " +
                        std::to_string(d) + ": use the random or halton sampler for high-dimensional domains");
  auto cpu_long = torch::TensorOptions().dtype(torch::kLong);
  auto it = sobol_.find(d);
  if (it == sobol_.end()) {
    // Same construction as torch.quasirandom.SobolEngine, seeded per dimension so sequences are reproducible.
    SobolState state;
    state.direction = torch::zeros({d, kSobolMaxBit}, cpu_long);
    at::_sobol_engine_initialize_state_(state.direction, d);
    torch::Tensor shift = torch::zeros({d}, cpu_long);
    if (options_.scramble()) {
      auto g = at::detail::createCPUGenerator(options_.seed() + static_cast<uint64_t>(d));
      auto shift_bits = torch::randint(2, {d, kSobolMaxBit}, g, cpu_long);              // [d, 30]
      shift = torch::mv(shift_bits, torch::pow(2, torch::arange(kSobolMaxBit, cpu_long)));
      auto ltm = torch::randint(2, {d, kSobolMaxBit, kSobolMaxBit}, g, cpu_long).tril();  // [d, 30, 30]
      at::_sobol_engine_scramble_(state.direction, ltm, d);
    }
    state.quasi = shift.clone();
    it = sobol_.emplace(d, std::move(state)).first;
  }
  SobolState& state = it->second;
  auto dtype = torch::kFloat64;
  torch::Tensor points;
  if (n == 0) return torch::empty({0, d}, tensor_options_);
  if (state.generated == 0) {
    // The sequence's first point is the shift itself; the engine draws the ones after it.
    auto first = (state.quasi.to(dtype) / static_cast<double>(int64_t{1} << kSobolMaxBit)).reshape({1, d});
    if (n == 1) {
      points = first;
    } else {
      auto [rest, quasi] = at::_sobol_engine_draw(state.quasi, n - 1, state.direction, d, 0, dtype);
      state.quasi = quasi;
      points = torch::cat({first, rest}, 0);
    }
  } else {
    auto [rest, quasi] = at::_sobol_engine_draw(state.quasi, n, state.direction, d, state.generated - 1, dtype);
    state.quasi = quasi;
    points = rest;
  }
  state.generated += n;
  return points.to(tensor_options_);  // [n, d]
}

torch::Tensor Sampler::halton(int64_t n, int64_t d) {
  // Radical inverse of indices 1, 2, ... in the first d prime bases, all digits of all points at once.
  int64_t& next = halton_next_[d];
  const int64_t first = next + 1;
  next += n;
  auto long_options = tensor_options_.dtype(torch::kLong);
  auto primes = first_primes(d);
  auto bases = torch::tensor(primes, torch::kLong).to(tensor_options_.device()).unsqueeze(0);  // [1, d]
  auto index = torch::arange(first, first + n, long_options).unsqueeze(1).expand({n, d}).clone();  // [n, d]
  auto value = torch::zeros({n, d}, long_options.dtype(torch::kFloat64));
  auto scale = torch::ones({1, d}, long_options.dtype(torch::kFloat64)) / bases.to(torch::kFloat64);
  const int64_t digits = static_cast<int64_t>(std::log2(static_cast<double>(first + n))) + 1;  // base 2 needs most
  for (int64_t k = 0; k < digits; ++k) {
    value += torch::remainder(index, bases).to(torch::kFloat64) * scale;
    index = torch::div(index, bases, "floor");
    scale = scale / bases.to(torch::kFloat64);
  }
  return value.to(tensor_options_.dtype());
}

}  // namespace physis::geometry
