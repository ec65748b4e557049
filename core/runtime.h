// Device, dtype, seed and threads: the run-wide settings every tensor follows.
//
//   auto rt = physis::Runtime::create(physis::RuntimeOptions().device("auto").dtype("float64").seed(7));
//   auto x = torch::rand({n, 2}, rt.options());
#pragma once

#include <torch/types.h>

#include <cstdint>
#include <string>

namespace physis {

struct RuntimeOptions {
  TORCH_ARG(std::string, device) = "auto";   // auto | cpu | cuda | cuda:N
  TORCH_ARG(std::string, dtype) = "float32"; // float32 | float64
  TORCH_ARG(uint64_t, seed) = 0;
  TORCH_ARG(int, threads) = 0;               // intra-op threads; 0 = one per core
};

// Parses "auto|cpu|cuda|cuda:N"; "auto" picks CUDA when available. Throws std::invalid_argument with a hint.
torch::Device parse_device(const std::string& text);
torch::Dtype parse_dtype(const std::string& text);
std::string dtype_name(torch::Dtype dtype);

struct Runtime {
  torch::Device device = torch::kCPU;
  torch::Dtype dtype = torch::kFloat32;
  uint64_t seed = 0;
  int threads = 1;

  // Applies the options process-wide: thread count, seeds of the CPU and CUDA generators, default dtype.
  static Runtime create(const RuntimeOptions& options);
  torch::TensorOptions options() const { return torch::TensorOptions().device(device).dtype(dtype); }
};

// Seeds every generator physis uses (CPU and, when present, CUDA).
void seed_everything(uint64_t seed);

// Number of cores this process may run on (its CPU affinity), at least 1.
int available_cores();

// What `physis info` prints: versions, devices, threads, BLAS and OpenMP as LibTorch reports them.
std::string runtime_report();

}  // namespace physis
