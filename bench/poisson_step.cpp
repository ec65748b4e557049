// One PINN training step for the 2D Poisson residual -laplace(u) - f on 8192 points, MLP 5x100 tanh, Adam:
// steps/s with the Laplacian by nested reverse mode (what Python PINN codes do) and by forward (Taylor) mode.
//   bench_poisson_step [--points N] [--seconds S] [--threads T] [--dtype float32|float64] [--device cpu|cuda]
#include "core/diff.h"
#include "core/network.h"
#include "core/runtime.h"
#include "core/taylor.h"

#include <ATen/Parallel.h>
#include <torch/optim/adam.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <numbers>
#include <string>

using namespace physis;

namespace {

double steps_per_second(bool taylor, int64_t points, double seconds, torch::Dtype dtype, torch::Device device) {
  torch::manual_seed(0);
  MLP net(MLPOptions({2, 100, 100, 100, 100, 100, 1}));
  net->to(device, dtype);
  torch::optim::Adam adam(net->parameters(), torch::optim::AdamOptions(1e-3));
  auto x = torch::rand({points, 2}, torch::TensorOptions().dtype(dtype).device(device));
  const double pi = std::numbers::pi;
  auto f = 2 * pi * pi * torch::sin(pi * x.select(1, 0)) * torch::sin(pi * x.select(1, 1));
  auto step = [&] {
    adam.zero_grad();
    torch::Tensor lap;
    if (taylor) {
      lap = net->forward_jet(Jet::along_axes(x, {}, true)).second_sum().select(1, 0);
    } else {
      auto xg = x.detach().requires_grad_(true);
      Derivatives d(xg, net->forward(xg));
      lap = d.laplacian(0);
    }
    auto loss = (-lap - f).square().mean();
    loss.backward();
    adam.step();
    return loss.item<double>();
  };
  for (int i = 0; i < 5; ++i) step();
  int n = 0;
  const auto t0 = std::chrono::steady_clock::now();
  double elapsed = 0;
  while (elapsed < seconds || n < 10) {
    step();
    ++n;
    elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  }
  return n / elapsed;
}

}  // namespace

int main(int argc, char** argv) {
  int64_t points = 8192;
  double seconds = 10;
  int threads = available_cores();
  std::string dtype = "float32", device = "cpu";
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--points")) points = std::stoll(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--seconds")) seconds = std::stod(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--threads")) threads = std::stoi(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--dtype")) dtype = argv[i + 1];
    else if (!std::strcmp(argv[i], "--device")) device = argv[i + 1];
    else {
      std::fprintf(stderr, "usage: bench_poisson_step [--points N] [--seconds S] [--threads T] [--dtype float32|float64] [--device cpu|cuda]\n");
      return 2;
    }
  }
  at::set_num_threads(threads);
  const auto dt = parse_dtype(dtype);
  const auto dev = parse_device(device);
  const double nested = steps_per_second(false, points, seconds, dt, dev);
  const double taylor = steps_per_second(true, points, seconds, dt, dev);
  std::printf("cpp_nested_autograd_steps_per_s %.3f\n", nested);
  std::printf("cpp_taylor_steps_per_s %.3f\n", taylor);
  std::printf("config points=%lld threads=%d dtype=%s device=%s\n", static_cast<long long>(points), threads,
              dtype.c_str(), device.c_str());
  return 0;
}
