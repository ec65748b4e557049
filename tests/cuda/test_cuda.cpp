// CUDA checks, built only where LibTorch's CUDA libraries are linked (PHYSIS_CUDA=ON): the same computations on
// the GPU as on the CPU.
#include "core/diff.h"
#include "core/network.h"
#include "core/runtime.h"
#include "core/taylor.h"
#include "core/trainer.h"

#include <catch2/catch.hpp>
#include <torch/cuda.h>

using namespace physis;

TEST_CASE("CUDA is visible and 'auto' picks it", "[cuda]") {
  REQUIRE(torch::cuda::is_available());
  REQUIRE(parse_device("auto").is_cuda());
  REQUIRE(parse_device("cuda:0").index() == 0);
}

TEST_CASE("forward-mode derivatives and their gradients agree between CPU and GPU", "[cuda]") {
  torch::manual_seed(0);
  MLP cpu(MLPOptions({3, 32, 32, 2}));
  cpu->to(torch::kFloat64);
  auto gpu = std::dynamic_pointer_cast<MLPImpl>(cpu->clone(torch::Device(torch::kCUDA)));
  auto x = torch::rand({256, 3}, torch::kFloat64);
  // Summed second order, and third order per direction (the CPU's fused kernel against the GPU's tensor ops).
  const bool third = GENERATE(false, true);
  INFO((third ? "third order" : "summed second order"));
  auto run = [&](MLPImpl& net, const torch::Tensor& points) {
    net.zero_grad();
    auto jet = net.forward_jet(Jet::along_axes(points, {}, !third, third ? 3 : 2));
    auto loss = jet.second_sum().square().mean() + jet.first.square().mean();
    if (third) loss = loss + jet.third.square().mean();
    loss.backward();
    std::vector<torch::Tensor> out{jet.second_sum().cpu()};
    if (third) out.push_back(jet.third.cpu());
    for (const auto& p : net.parameters()) out.push_back(p.grad().cpu());
    return out;
  };
  auto a = run(*cpu, x);
  auto b = run(*gpu, x.cuda());
  for (std::size_t i = 0; i < a.size(); ++i) REQUIRE(torch::allclose(a[i], b[i], 1e-9, 1e-10));
}

TEST_CASE("a short training run on the GPU lowers the loss", "[cuda]") {
  torch::manual_seed(1);
  MLP net(MLPOptions({1, 32, 32, 1}));
  net->to(torch::kCUDA);
  auto x = torch::rand({512, 1}, torch::kCUDA);
  auto loss = [&](int64_t) { return LossTerms{{"fit", (net->forward(x) - torch::sin(6 * x)).square().mean()}}; };
  Trainer trainer(net.ptr(), loss, TrainerOptions().phases({PhaseOptions().steps(300).lr(3e-3)}).progress("none"));
  const double before = loss(0).front().second.item<double>();
  auto result = trainer.run();
  REQUIRE(result.loss < 0.1 * before);
}
