// Fused forward-mode step through an elementwise activation, with a hand-derived backward pass.
//
// Written as plain tensor ops, the jet of f(z) builds about fifteen autograd nodes per layer whose backward pass
// re-reads every intermediate and accumulates gradients op by op. As one autograd function it saves only its
// inputs and computes the three input gradients directly:
//   a = f(z),  a1 = f'(z) z1,  a2 = f'(z) z2 + f''(z) S,   S = sum_k z1_k^2 (summed) or z1^2 (per direction)
//   dz2 = f' g2
//   dz1 = f' g1 + 2 f'' z1 g2
//   dz  = f' g + f'' sum_k g1_k z1_k + sum_m g2_m (f'' z2_m + f''' S_m)
#pragma once

#include "core/taylor.h"

namespace physis {

enum class Activation;

// The jet of activation(z); same result as jet_elementwise with the activation's derivatives, fewer graph nodes.
// Third- and fourth-order jets: a fused tanh step on CPU (kernels::tanh_jet3_*, tanh_jet4_*); jet_elementwise on
// GPUs and for the other activations.
Jet jet_activation(Activation activation, const Jet& z);

}  // namespace physis
