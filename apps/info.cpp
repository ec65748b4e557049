// `physis info`: what this build and machine offer, and whether intra-op threading really speeds up a step.
#include "apps/commands.h"
#include "core/build_config.h"
#include "core/network.h"
#include "core/runtime.h"
#include "core/taylor.h"

#include <ATen/Parallel.h>

#include <chrono>
#include <cstdio>
#include <iostream>

namespace physis::app {

namespace {

// Steps/s of one small PINN training step (Laplacian by forward mode, MLP 4x64, 4096 points) at `threads`.
double measure_steps_per_second(int threads) {
  at::set_num_threads(threads);
  torch::manual_seed(0);
  MLP net(MLPOptions({2, 64, 64, 64, 64, 1}));
  auto x = torch::rand({4096, 2});
  auto step = [&] {
    net->zero_grad();
    auto jet = net->forward_jet(Jet::along_axes(x, {}, true));
    auto loss = (jet.second_sum() + 1).square().mean();
    loss.backward();
  };
  for (int i = 0; i < 3; ++i) step();
  const auto t0 = std::chrono::steady_clock::now();
  int n = 0;
  while (std::chrono::steady_clock::now() - t0 < std::chrono::milliseconds(700)) {
    step();
    ++n;
  }
  return n / std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

Command add_info(CLI::App& app) {
  auto measure = std::make_shared<bool>(true);
  app.add_flag("!--no-measure", *measure, "Skip the 1-thread vs all-threads training-step measurement");
  return [measure]() {
    const int cores = available_cores();
    at::set_num_threads(cores);
    std::cout << "physis          " << PHYSIS_VERSION << "\n";
    std::cout << "VTK output      " << (PHYSIS_HAVE_VTK ? "yes" : "no (built without VTK)") << "\n";
    std::cout << "Gmsh meshing    " << (PHYSIS_HAVE_GMSH ? "yes" : "no (built without Gmsh)") << "\n";
    std::cout << "CUDA linked     " << (PHYSIS_CUDA_ENABLED ? "yes" : "no (CPU libraries only)") << "\n";
    std::cout << runtime_report();
    if (*measure) {
      const double one = measure_steps_per_second(1);
      const double all = measure_steps_per_second(cores);
      std::printf("\n-- measured PINN step (MLP 4x64 tanh, 4096 points, forward-mode Laplacian, float32) --\n");
      std::printf("1 thread: %.1f steps/s, %d threads: %.1f steps/s, speed-up %.2fx%s\n", one, cores, all, all / one,
                  cores > 1 && all / one < 1.2 ? "  (WARNING: threads give little; check OMP_NUM_THREADS and affinity)"
                                               : "");
      at::set_num_threads(cores);
    }
    return 0;
  };
}

}  // namespace physis::app
