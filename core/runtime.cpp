#include "core/runtime.h"

#include <ATen/Context.h>
#include <ATen/Parallel.h>
#include <ATen/Version.h>
#include <torch/cuda.h>
#include <torch/utils.h>
#include <torch/version.h>

#include <sched.h>

#include <cstdlib>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace physis {

torch::Device parse_device(const std::string& text) {
  if (text == "auto") return torch::cuda::is_available() ? torch::Device(torch::kCUDA, 0) : torch::Device(torch::kCPU);
  if (text == "cpu") return torch::kCPU;
  if (text == "cuda" || text.rfind("cuda:", 0) == 0) {
    int index = 0;
    if (text.size() > 5) {
      try {
        std::size_t used = 0;
        index = std::stoi(text.substr(5), &used);
        if (used != text.size() - 5 || index < 0) throw std::invalid_argument("index");
      } catch (const std::exception&) {
        throw std::invalid_argument("device '" + text + "': expected cuda:N with N a device index, e.g. cuda:0");
      }
    }
    if (!torch::cuda::is_available())
      throw std::invalid_argument("device '" + text +
                                  "': CUDA is not available in this build or on this machine; use 'cpu' or 'auto'");
    if (index >= static_cast<int>(torch::cuda::device_count()))
      throw std::invalid_argument("device '" + text + "': only " + std::to_string(torch::cuda::device_count()) +
                                  " CUDA device(s) present");
    return torch::Device(torch::kCUDA, static_cast<c10::DeviceIndex>(index));
  }
  throw std::invalid_argument("unknown device '" + text + "': expected auto, cpu, cuda or cuda:N");
}

torch::Dtype parse_dtype(const std::string& text) {
  if (text == "float32" || text == "float") return torch::kFloat32;
  if (text == "float64" || text == "double") return torch::kFloat64;
  throw std::invalid_argument("unknown dtype '" + text + "': expected float32 or float64");
}

std::string dtype_name(torch::Dtype dtype) {
  return dtype == torch::kFloat64 ? "float64" : dtype == torch::kFloat32 ? "float32" : std::string(c10::toString(dtype));
}

int available_cores() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof(set), &set) == 0) return std::max(1, CPU_COUNT(&set));
  return std::max(1u, std::thread::hardware_concurrency());
}

void seed_everything(uint64_t seed) {
  torch::manual_seed(seed);  // also seeds every CUDA generator when CUDA is present
}

Runtime Runtime::create(const RuntimeOptions& options) {
  Runtime rt;
  // Default: one thread per core, unless OMP_NUM_THREADS says otherwise (e.g. tests run side by side).
  if (options.threads() > 0)
    at::set_num_threads(options.threads());
  else if (!std::getenv("OMP_NUM_THREADS"))
    at::set_num_threads(available_cores());
  rt.threads = at::get_num_threads();
  rt.device = parse_device(options.device());
  rt.dtype = parse_dtype(options.dtype());
  rt.seed = options.seed();
  seed_everything(rt.seed);
  torch::set_default_dtype(caffe2::TypeMeta::fromScalarType(rt.dtype));
  return rt;
}

std::string runtime_report() {
  std::ostringstream out;
  out << "LibTorch        " << TORCH_VERSION << "\n";
  out << "cores available " << available_cores() << "\n";
  out << "intra-op threads " << at::get_num_threads() << ", inter-op threads " << at::get_num_interop_threads()
      << "\n";
  out << "CUDA            "
      << (torch::cuda::is_available() ? "available, " + std::to_string(torch::cuda::device_count()) + " device(s)"
                                      : std::string("not available"))
      << "\n";
  out << "MKL " << (at::hasMKL() ? "yes" : "no") << ", MKL-DNN " << (at::hasMKLDNN() ? "yes" : "no") << ", OpenMP "
      << (at::hasOpenMP() ? "yes" : "no") << ", LAPACK " << (at::hasLAPACK() ? "yes" : "no") << "\n";
  out << "\n-- parallel backend (at::get_parallel_info) --\n" << at::get_parallel_info();
  out << "\n-- build configuration (at::show_config) --\n" << at::show_config();
  return out.str();
}

}  // namespace physis
