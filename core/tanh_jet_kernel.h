// One-pass CPU kernels for the forward-mode tanh step (see core/taylor_activation.h for the formulas).
// Each reads its inputs once and writes its outputs once, instead of a dozen elementwise passes; compiled for
// AVX-512, AVX2 and baseline x86-64, the best picked at load time. All arrays are contiguous, of n = N * w values
// per direction, directions stored one after another.
#pragma once

#include <cstdint>

namespace physis::kernels {

// t = tanh(z) given. a1[k] = s z1[k]; a2[m] = q S[m] + s z2[m] (z2 may be null), s = 1 - t^2, q = -2 t s,
// S = sum_k z1[k]^2 (summed) or z1[m]^2. Values with index in [begin, end) are computed.
template <class T>
void tanh_jet_forward(const T* t, const T* z1, const T* z2, T* a1, T* a2, int64_t n, int64_t K, bool summed,
                      int64_t begin, int64_t end);

// Gradients: gz = s g + q sum_k g1[k] z1[k] + sum_m g2[m] (q z2[m] + r S[m]);  gz1[k] = s g1[k] + 2 q z1[k] g2[k|0];
// gz2[m] = s g2[m], with r = -2 s (1 - 3 t^2). Null gradient pointers stand for zeros; gz2 may be null.
template <class T>
void tanh_jet_backward(const T* t, const T* z1, const T* z2, const T* g, const T* g1, const T* g2, T* gz, T* gz1,
                       T* gz2, int64_t n, int64_t K, bool summed, int64_t begin, int64_t end);

}  // namespace physis::kernels
