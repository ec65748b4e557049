#include "core/taylor_activation.h"

#include "core/network.h"
#include "core/tanh_jet_kernel.h"

#include <ATen/Dispatch.h>
#include <ATen/Parallel.h>

#include <torch/autograd.h>

#include <cmath>
#include <numbers>

namespace physis {

namespace {

struct Derivs {
  torch::Tensor f, d1, d2, d3, d4;  // f and its first four derivatives at z
};

// d3 is only needed by the backward pass and by jets of order 3 and 4, d4 by jets of order 4.
Derivs activation_derivatives(Activation activation, const torch::Tensor& z, bool need_value, bool need_d3,
                              bool need_d4 = false) {
  Derivs r;
  switch (activation) {
    case Activation::tanh: {
      auto t = torch::tanh(z);
      r.d1 = 1 - t * t;
      r.d2 = -2 * t * r.d1;
      if (need_d3) r.d3 = -2 * r.d1 * (1 - 3 * t * t);
      if (need_d4) r.d4 = 8 * t * r.d1 * (2 - 3 * t * t);
      if (need_value) r.f = std::move(t);
      break;
    }
    case Activation::sin: {
      auto s = torch::sin(z), c = torch::cos(z);
      r.d1 = c;
      r.d2 = -s;
      if (need_d3) r.d3 = -c;
      if (need_d4) r.d4 = s;
      if (need_value) r.f = s;
      break;
    }
    case Activation::silu: {
      auto sg = torch::sigmoid(z);
      auto p = sg * (1 - sg);
      auto q = 1 - 2 * sg;
      auto g = 2 + z * q;
      r.d1 = sg + z * p;
      r.d2 = p * g;
      if (need_d3) r.d3 = p * (q * g + q - 2 * z * p);
      // f^(n) = z sigma^(n) + n sigma^(n-1), sigma''' = p (q^2 - 2 p), sigma'''' = p q (q^2 - 8 p)
      if (need_d4) r.d4 = p * (z * q * (q * q - 8 * p) + 4 * (q * q - 2 * p));
      if (need_value) r.f = z * sg;
      break;
    }
    case Activation::gelu: {
      auto phi = torch::exp(-0.5 * z * z) / std::sqrt(2 * std::numbers::pi);
      auto Phi = 0.5 * (1 + torch::erf(z / std::numbers::sqrt2));
      r.d1 = Phi + z * phi;
      r.d2 = phi * (2 - z * z);
      if (need_d3) r.d3 = z * phi * (z * z - 4);
      if (need_d4) r.d4 = phi * (7 * z * z - z * z * z * z - 4);
      if (need_value) r.f = z * Phi;
      break;
    }
  }
  return r;
}

// Sums a gradient computed at full size back to the (possibly broadcast) shape of the input it belongs to.
torch::Tensor reduce_to(const torch::Tensor& grad, const torch::Tensor& like) {
  if (grad.sizes() == like.sizes()) return grad;
  return grad.sum_to_size(like.sizes());
}

// The one-pass CPU kernels serve tanh on float/double CPU tensors; everything else takes the tensor-op path.
bool use_fused_kernel(Activation activation, const torch::Tensor& z) {
  return activation == Activation::tanh && z.device().is_cpu() &&
         (z.scalar_type() == torch::kFloat32 || z.scalar_type() == torch::kFloat64);
}

constexpr int64_t kGrain = 16384;  // values per task: enough work to amortise a thread hand-off

torch::autograd::variable_list fused_forward(const torch::Tensor& z, const torch::Tensor& z1_full,
                                             const torch::Tensor& z2_full, bool summed, torch::Tensor& t) {
  const int64_t K = z1_full.size(0), n = z.numel(), M = summed ? 1 : K;
  t = torch::tanh(z).contiguous();
  auto a1 = torch::empty_like(z1_full);
  auto a2 = torch::empty({M, z.size(0), z.size(1)}, z.options());
  AT_DISPATCH_FLOATING_TYPES(z.scalar_type(), "tanh_jet_forward", [&] {
    const scalar_t* z2p = z2_full.defined() ? z2_full.data_ptr<scalar_t>() : nullptr;
    at::parallel_for(0, n, kGrain, [&](int64_t begin, int64_t end) {
      kernels::tanh_jet_forward<scalar_t>(t.data_ptr<scalar_t>(), z1_full.data_ptr<scalar_t>(), z2p,
                                          a1.data_ptr<scalar_t>(), a2.data_ptr<scalar_t>(), n, K, summed, begin, end);
    });
  });
  return {t, a1, a2};
}

class ActivationJetFunction : public torch::autograd::Function<ActivationJetFunction> {
 public:
  // z [N, w]; z1 [K, N|1, w]; z2 [M, N|1, w] or undefined (zero); summed: M = 1 and S sums over k.
  static torch::autograd::variable_list forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& z,
                                                const torch::Tensor& z1, const torch::Tensor& z2, int64_t activation,
                                                bool summed) {
    ctx->saved_data["activation"] = activation;
    ctx->saved_data["summed"] = summed;
    const bool has_z2 = z2.numel() > 0;  // an empty tensor stands for a zero second derivative
    ctx->saved_data["has_z2"] = has_z2;
    ctx->saved_data["z1_shape"] = z1.sizes().vec();
    ctx->saved_data["z2_shape"] = z2.sizes().vec();
    const auto act = static_cast<Activation>(activation);
    const bool fused = use_fused_kernel(act, z);
    ctx->saved_data["fused"] = fused;
    if (fused) {
      // Broadcast first derivatives (the first layer's) are materialised: the kernels index every point.
      const int64_t K = z1.size(0), M = summed ? 1 : K;
      auto z1_full = z1.expand({K, z.size(0), z.size(1)}).contiguous();
      auto z2_full = has_z2 ? z2.expand({M, z.size(0), z.size(1)}).contiguous() : torch::Tensor();
      torch::Tensor t;
      auto out = fused_forward(z.contiguous(), z1_full, z2_full, summed, t);
      ctx->save_for_backward({t, z1_full, has_z2 ? z2_full : z2});
      return out;
    }
    ctx->save_for_backward({z, z1, z2});
    auto r = activation_derivatives(act, z, /*need_value=*/true, /*need_d3=*/false);
    auto a1 = r.d1 * z1;                                                   // [K, N, w]
    auto square = z1 * z1;
    auto a2 = r.d2 * (summed ? square.sum(0, /*keepdim=*/true) : square);  // [M, N, w]
    if (has_z2) a2.addcmul_(r.d1, z2);
    return {r.f, a1, a2};
  }

  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grads) {
    const auto saved = ctx->get_saved_variables();
    const auto& z = saved[0];
    const auto& z1 = saved[1];
    const auto& z2 = saved[2];
    const bool summed = ctx->saved_data["summed"].toBool();
    const bool has_z2 = ctx->saved_data["has_z2"].toBool();
    const auto& g = grads[0];   // [N, w]
    const auto& g1 = grads[1];  // [K, N, w]
    const auto& g2 = grads[2];  // [M, N, w]
    if (ctx->saved_data["fused"].toBool()) return fused_backward(saved, grads, summed, has_z2, ctx);
    auto r = activation_derivatives(static_cast<Activation>(ctx->saved_data["activation"].toInt()), z,
                                    /*need_value=*/false, /*need_d3=*/true);

    torch::Tensor gz = g.defined() ? r.d1 * g : torch::zeros_like(z);
    torch::Tensor gz1, gz2;
    if (g1.defined()) {
      auto g1z1 = g1 * z1;
      gz.addcmul_(r.d2, g1z1.sum(0));
      gz1 = r.d1 * g1;
    }
    if (g2.defined()) {
      // [M, N, w]: f'' z2 + f''' S, contracted with g2 over m
      auto square = z1 * z1;
      auto curvature = r.d3 * (summed ? square.sum(0, true) : square);
      if (has_z2) curvature.addcmul_(r.d2, z2);
      gz.add_((g2 * curvature).sum(0));
      auto extra = 2 * r.d2 * z1 * g2;  // g2 broadcasts over k in summed mode
      gz1 = gz1.defined() ? gz1.add_(extra) : extra;
      if (has_z2) gz2 = reduce_to(r.d1 * g2, z2);
    }
    if (gz1.defined()) gz1 = reduce_to(gz1, z1);
    if (!has_z2) gz2 = torch::Tensor();
    return {gz, gz1, gz2, torch::Tensor(), torch::Tensor()};
  }

 private:
  static torch::autograd::variable_list fused_backward(const torch::autograd::variable_list& saved,
                                                       const torch::autograd::variable_list& grads, bool summed,
                                                       bool has_z2, torch::autograd::AutogradContext* ctx) {
    const auto& t = saved[0];        // tanh(z) [N, w]
    const auto& z1 = saved[1];       // [K, N, w], materialised
    const auto& z2 = saved[2];       // [M, N, w] or empty
    const int64_t K = z1.size(0), n = t.numel();
    auto contiguous = [](const torch::Tensor& x) { return x.defined() ? x.contiguous() : x; };
    const auto g = contiguous(grads[0]), g1 = contiguous(grads[1]), g2 = contiguous(grads[2]);
    auto gz = torch::empty_like(t);
    auto gz1 = torch::empty_like(z1);
    auto gz2 = has_z2 ? torch::empty_like(z2) : torch::Tensor();
    AT_DISPATCH_FLOATING_TYPES(t.scalar_type(), "tanh_jet_backward", [&] {
      auto ptr = [](const torch::Tensor& x) { return x.defined() ? x.data_ptr<scalar_t>() : nullptr; };
      at::parallel_for(0, n, kGrain, [&](int64_t begin, int64_t end) {
        kernels::tanh_jet_backward<scalar_t>(ptr(t), ptr(z1), has_z2 ? ptr(z2) : nullptr, ptr(g), ptr(g1), ptr(g2),
                                             ptr(gz), ptr(gz1), ptr(gz2), n, K, summed, begin, end);
      });
    });
    gz1 = gz1.sum_to_size(ctx->saved_data["z1_shape"].toIntVector());
    if (has_z2) gz2 = gz2.sum_to_size(ctx->saved_data["z2_shape"].toIntVector());
    return {gz, gz1, gz2, torch::Tensor(), torch::Tensor()};
  }
};

// The third- and fourth-order tanh step on CPU, one pass each way (core/tanh_jet_kernel.h); per direction only.
class TanhJetHighFunction : public torch::autograd::Function<TanhJetHighFunction> {
 public:
  // z [N, w]; z1 [K, N|1, w]; z2, z3, z4 [K, N|1, w] or empty (zero); z4 empty at order 3.
  // Returns tanh(z) and the jet's orders 1..order.
  static torch::autograd::variable_list forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& z,
                                                const torch::Tensor& z1, const torch::Tensor& z2,
                                                const torch::Tensor& z3, const torch::Tensor& z4, int64_t order) {
    const int64_t K = z1.size(0);
    const std::vector<int64_t> full_shape{K, z.size(0), z.size(1)};
    const std::vector<torch::Tensor> higher{z2, z3, z4};  // orders 2..4 of the input
    const int64_t count = order - 1;                       // of them in use
    bool any = false;
    for (int64_t i = 0; i < count; ++i) any = any || higher[i].numel() > 0;
    // Broadcast parts (the first layer's) are materialised: the kernels index every point. The kernels take the
    // higher orders together: a missing one is written out as zeros when another is given.
    std::vector<torch::Tensor> full(3);
    for (int64_t i = 0; i < count && any; ++i)
      full[i] = higher[i].numel() > 0 ? higher[i].expand(full_shape).contiguous() : torch::zeros(full_shape, z.options());
    auto z1f = z1.expand(full_shape).contiguous();
    auto t = torch::tanh(z).contiguous();
    std::vector<torch::Tensor> a(order);
    for (auto& x : a) x = torch::empty(full_shape, z.options());
    const int64_t n = t.numel();
    AT_DISPATCH_FLOATING_TYPES(z.scalar_type(), "tanh_jet_high_forward", [&] {
      auto ptr = [](const torch::Tensor& x) { return x.defined() ? x.data_ptr<scalar_t>() : nullptr; };
      at::parallel_for(0, n, kGrain, [&](int64_t begin, int64_t end) {
        if (order == 3)
          kernels::tanh_jet3_forward<scalar_t>(ptr(t), ptr(z1f), ptr(full[0]), ptr(full[1]), ptr(a[0]), ptr(a[1]),
                                               ptr(a[2]), n, K, begin, end);
        else
          kernels::tanh_jet4_forward<scalar_t>(ptr(t), ptr(z1f), ptr(full[0]), ptr(full[1]), ptr(full[2]),
                                               ptr(a[0]), ptr(a[1]), ptr(a[2]), ptr(a[3]), n, K, begin, end);
      });
    });
    ctx->saved_data["order"] = order;
    ctx->saved_data["z1_shape"] = z1.sizes().vec();
    for (int64_t i = 0; i < 3; ++i) {
      ctx->saved_data["z" + std::to_string(i + 2) + "_shape"] = higher[i].sizes().vec();
      ctx->saved_data["has_z" + std::to_string(i + 2)] = higher[i].numel() > 0;
    }
    auto none = torch::empty({0}, z.options());
    ctx->save_for_backward({t, z1f, full[0].defined() ? full[0] : none, full[1].defined() ? full[1] : none,
                            full[2].defined() ? full[2] : none});
    torch::autograd::variable_list out{t};
    out.insert(out.end(), a.begin(), a.end());
    return out;
  }

  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grads) {
    const auto saved = ctx->get_saved_variables();
    const auto& t = saved[0];
    const auto& z1 = saved[1];
    const int64_t order = ctx->saved_data["order"].toInt();
    const bool with_higher = saved[2].numel() > 0;
    // The kernels take every gradient (zeros where none flows back), so their loops have no branches.
    auto given = [](const torch::Tensor& grad, const torch::Tensor& like) {
      return grad.defined() ? grad.contiguous() : torch::zeros_like(like);
    };
    const auto g = given(grads[0], t);
    std::vector<torch::Tensor> gin(order);  // gradients of the outputs a1..a_order
    for (int64_t i = 0; i < order; ++i) gin[i] = given(grads[i + 1], z1);
    auto gz = torch::empty_like(t), gz1 = torch::empty_like(z1);
    std::vector<torch::Tensor> gh(3);  // gradients of z2..z_order
    for (int64_t i = 0; i + 1 < order && with_higher; ++i) gh[i] = torch::empty_like(z1);
    const int64_t n = t.numel(), K = z1.size(0);
    AT_DISPATCH_FLOATING_TYPES(t.scalar_type(), "tanh_jet_high_backward", [&] {
      auto ptr = [](const torch::Tensor& x) {
        return x.defined() && x.numel() > 0 ? x.data_ptr<scalar_t>() : nullptr;
      };
      at::parallel_for(0, n, kGrain, [&](int64_t begin, int64_t end) {
        if (order == 3)
          kernels::tanh_jet3_backward<scalar_t>(ptr(t), ptr(z1), ptr(saved[2]), ptr(saved[3]), ptr(g), ptr(gin[0]),
                                                ptr(gin[1]), ptr(gin[2]), ptr(gz), ptr(gz1), ptr(gh[0]), ptr(gh[1]), n,
                                                K, begin, end);
        else
          kernels::tanh_jet4_backward<scalar_t>(ptr(t), ptr(z1), ptr(saved[2]), ptr(saved[3]), ptr(saved[4]), ptr(g),
                                                ptr(gin[0]), ptr(gin[1]), ptr(gin[2]), ptr(gin[3]), ptr(gz), ptr(gz1),
                                                ptr(gh[0]), ptr(gh[1]), ptr(gh[2]), n, K, begin, end);
      });
    });
    torch::autograd::variable_list out{gz, gz1.sum_to_size(ctx->saved_data["z1_shape"].toIntVector())};
    for (int64_t i = 0; i < 3; ++i) {
      const auto index = std::to_string(i + 2);
      out.push_back(gh[i].defined() && ctx->saved_data["has_z" + index].toBool()
                        ? gh[i].sum_to_size(ctx->saved_data["z" + index + "_shape"].toIntVector())
                        : torch::Tensor());
    }
    out.push_back(torch::Tensor());  // order
    return out;
  }
};

}  // namespace

Jet jet_activation(Activation activation, const Jet& z) {
  if (z.order >= 3) {
    if (use_fused_kernel(activation, z.value)) {
      auto empty = torch::empty({0}, z.value.options());
      auto given = [&](const torch::Tensor& x) { return x.defined() ? x : empty; };
      auto out = TanhJetHighFunction::apply(z.value, z.first, given(z.second), given(z.third),
                                            z.order >= 4 ? given(z.fourth) : empty, static_cast<int64_t>(z.order));
      Jet y;
      y.order = z.order;
      y.value = out[0];
      y.first = out[1];
      y.second = out[2];
      y.third = out[3];
      if (z.order >= 4) y.fourth = out[4];
      return y;
    }
    // Other activations and devices take plain tensor ops (autograd differentiates them).
    auto r = activation_derivatives(activation, z.value, /*need_value=*/true, /*need_d3=*/true, z.order >= 4);
    return jet_elementwise(z, r.f, r.d1, r.d2, r.d3, r.d4);
  }
  // Autograd functions take no undefined tensors: an empty one marks a zero second derivative.
  auto second = z.second.defined() ? z.second : torch::empty({0}, z.value.options());
  auto out = ActivationJetFunction::apply(z.value, z.first, second, static_cast<int64_t>(activation), z.summed);
  Jet y;
  y.summed = z.summed;
  y.value = out[0];
  y.first = out[1];
  y.second = out[2];
  return y;
}

}  // namespace physis
