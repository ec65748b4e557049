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

// Third order, per direction (K directions, each with its own z1, z2, z3):
//   a1 = s z1,  a2 = q z1^2 + s z2,  a3 = r z1^3 + 3 q z1 z2 + s z3,   with q = f'', r = f''' as above.
// z2 and z3 are both null (zeros: the first layer) or both given.
template <class T>
void tanh_jet3_forward(const T* t, const T* z1, const T* z2, const T* z3, T* a1, T* a2, T* a3, int64_t n, int64_t K,
                       int64_t begin, int64_t end);

// Gradients, with p = f'''' = 8 t s (2 - 3 t^2):
//   gz     = s g + sum_k [q z1 g1 + (q z2 + r z1^2) g2 + (q z3 + 3 r z1 z2 + p z1^3) g3]
//   gz1[k] = s g1 + 2 q z1 g2 + 3 (q z2 + r z1^2) g3,   gz2[k] = s g2 + 3 q z1 g3,   gz3[k] = s g3.
// Every gradient g, g1, g2, g3 is given (zeros where none flows back). gz2 and gz3 are written when z2 and z3 are
// given, and are null when they are not.
template <class T>
void tanh_jet3_backward(const T* t, const T* z1, const T* z2, const T* z3, const T* g, const T* g1, const T* g2,
                        const T* g3, T* gz, T* gz1, T* gz2, T* gz3, int64_t n, int64_t K, int64_t begin, int64_t end);

// Fourth order, per direction, with m = z4 and the fourth derivative p as above:
//   a1..a3 as third order,  a4 = p z1^4 + 6 r z1^2 z2 + q (4 z1 z3 + 3 z2^2) + s z4.
// z2, z3 and z4 are all null (the first layer) or all given.
template <class T>
void tanh_jet4_forward(const T* t, const T* z1, const T* z2, const T* z3, const T* z4, T* a1, T* a2, T* a3, T* a4,
                       int64_t n, int64_t K, int64_t begin, int64_t end);

// Gradients, with v = f''''' = 8 s (2 - 15 t^2 + 15 t^4):
//   gz     = s g + sum_k [q z1 g1 + (q z2 + r z1^2) g2 + (q z3 + 3 r z1 z2 + p z1^3) g3
//                         + (q z4 + r (4 z1 z3 + 3 z2^2) + 6 p z1^2 z2 + v z1^4) g4]
//   gz1[k] = s g1 + 2 q z1 g2 + 3 (q z2 + r z1^2) g3 + 4 (q z3 + 3 r z1 z2 + p z1^3) g4
//   gz2[k] = s g2 + 3 q z1 g3 + 6 (q z2 + r z1^2) g4,   gz3[k] = s g3 + 4 q z1 g4,   gz4[k] = s g4.
// Every gradient is given (zeros where none flows back); gz2..gz4 are written when z2..z4 are given.
template <class T>
void tanh_jet4_backward(const T* t, const T* z1, const T* z2, const T* z3, const T* z4, const T* g, const T* g1,
                        const T* g2, const T* g3, const T* g4, T* gz, T* gz1, T* gz2, T* gz3, T* gz4, int64_t n,
                        int64_t K, int64_t begin, int64_t end);

}  // namespace physis::kernels
