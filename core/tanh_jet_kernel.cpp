#include "core/tanh_jet_kernel.h"

#include <type_traits>

namespace physis::kernels {

namespace {

// tanh's derivatives as polynomials of t = tanh(z): s = f', q = f'', r = f''', p = f'''', v = f'''''. Each kernel
// reads the ones it needs; the others are dead code the compiler drops.
template <class T>
struct TanhDerivatives {
  T s, q, r, p, v;
  [[gnu::always_inline]] explicit TanhDerivatives(T t) {
    const T t2 = t * t;
    s = 1 - t2;
    q = -2 * t * s;
    r = -2 * s * (1 - 3 * t2);
    p = 8 * t * s * (2 - 3 * t2);
    v = 8 * s * (2 - 15 * t2 + 15 * t2 * t2);
  }
};

template <class T, int KC>
[[gnu::always_inline]] inline void forward_impl(const T* __restrict t, const T* __restrict z1, const T* __restrict z2,
                                                T* __restrict a1, T* __restrict a2, int64_t n, int64_t K, bool summed,
                                                int64_t begin, int64_t end) {
  if constexpr (KC > 0) K = KC;  // a compile-time count unrolls the direction loops so the point loop vectorises
  if (summed) {
#pragma GCC ivdep
    for (int64_t i = begin; i < end; ++i) {
      const TanhDerivatives<T> f(t[i]);
      const T s = f.s, q = f.q;
      T sq = 0;
      for (int64_t k = 0; k < K; ++k) {
        const T d = z1[k * n + i];
        sq += d * d;
        a1[k * n + i] = s * d;
      }
      a2[i] = q * sq + (z2 ? s * z2[i] : T(0));
    }
  } else {
    for (int64_t k = 0; k < K; ++k) {
      const T* __restrict zk = z1 + k * n;
      const T* __restrict z2k = z2 ? z2 + k * n : nullptr;
      T* __restrict a1k = a1 + k * n;
      T* __restrict a2k = a2 + k * n;
#pragma GCC ivdep
      for (int64_t i = begin; i < end; ++i) {
        const TanhDerivatives<T> f(t[i]);
        const T s = f.s, q = f.q, d = zk[i];
        a1k[i] = s * d;
        a2k[i] = q * d * d + (z2k ? s * z2k[i] : T(0));
      }
    }
  }
}

template <class T, int KC>
[[gnu::always_inline]] inline void backward_impl(const T* __restrict t, const T* __restrict z1,
                                                 const T* __restrict z2, const T* __restrict g,
                                                 const T* __restrict g1, const T* __restrict g2, T* __restrict gz,
                                                 T* __restrict gz1, T* __restrict gz2, int64_t n, int64_t K,
                                                 bool summed, int64_t begin, int64_t end) {
  if constexpr (KC > 0) K = KC;
  const int64_t M = summed ? 1 : K;
#pragma GCC ivdep
  for (int64_t i = begin; i < end; ++i) {
    const TanhDerivatives<T> f(t[i]);
    const T s = f.s, q = f.q, r = f.r;
    T acc = g ? s * g[i] : T(0);
    T sq = 0;
    for (int64_t k = 0; k < K; ++k) {
      const T d = z1[k * n + i];
      sq += d * d;
      if (g1) acc += q * g1[k * n + i] * d;
    }
    if (g2) {
      if (summed) {
        const T g2i = g2[i];
        acc += g2i * (r * sq + (z2 ? q * z2[i] : T(0)));
        if (gz2) gz2[i] = s * g2i;
      } else {
        for (int64_t m = 0; m < M; ++m) {
          const T d = z1[m * n + i], g2m = g2[m * n + i];
          acc += g2m * (r * d * d + (z2 ? q * z2[m * n + i] : T(0)));
          if (gz2) gz2[m * n + i] = s * g2m;
        }
      }
    }
    gz[i] = acc;
    for (int64_t k = 0; k < K; ++k) {
      T v = g1 ? s * g1[k * n + i] : T(0);
      if (g2) v += 2 * q * z1[k * n + i] * g2[(summed ? 0 : k) * n + i];
      gz1[k * n + i] = v;
    }
  }
}

// Third and fourth order (ORDER 3 or 4), per direction. Every pointer is non-null except the higher input orders
// z2, z3 (and z4 at order 4) and their gradients, which are null exactly when HAS_Z is false (the first layer, whose
// input jet is linear). At order 3, z4, a4, g4 and gz4 are unused. The bodies have no branches, so the point loops
// vectorise.
template <class T, int KC, bool HAS_Z, int ORDER>
[[gnu::always_inline]] inline void forward_high_impl(const T* __restrict t, const T* __restrict z1,
                                                     const T* __restrict z2, const T* __restrict z3,
                                                     const T* __restrict z4, T* __restrict a1, T* __restrict a2,
                                                     T* __restrict a3, T* __restrict a4, int64_t n, int64_t K,
                                                     int64_t begin, int64_t end) {
  static_assert(ORDER == 3 || ORDER == 4);
  if constexpr (KC > 0) K = KC;
  for (int64_t k = 0; k < K; ++k) {
    const int64_t o = k * n;
#pragma GCC ivdep
    for (int64_t i = begin; i < end; ++i) {
      const TanhDerivatives<T> f(t[i]);
      const T s = f.s, q = f.q, r = f.r, p = f.p;
      const T d = z1[o + i], dd = d * d;
      a1[o + i] = s * d;
      if constexpr (HAS_Z) {
        const T e = z2[o + i], h = z3[o + i];
        a2[o + i] = q * dd + s * e;
        a3[o + i] = (r * dd + 3 * q * e) * d + s * h;
        if constexpr (ORDER == 4) a4[o + i] = (p * dd + 6 * r * e) * dd + q * (4 * d * h + 3 * e * e) + s * z4[o + i];
      } else {
        a2[o + i] = q * dd;
        a3[o + i] = r * dd * d;
        if constexpr (ORDER == 4) a4[o + i] = p * dd * dd;
      }
    }
  }
}

template <class T, int KC, bool HAS_Z, int ORDER>
[[gnu::always_inline]] inline void backward_high_impl(const T* __restrict t, const T* __restrict z1,
                                                      const T* __restrict z2, const T* __restrict z3,
                                                      const T* __restrict z4, const T* __restrict g,
                                                      const T* __restrict g1, const T* __restrict g2,
                                                      const T* __restrict g3, const T* __restrict g4,
                                                      T* __restrict gz, T* __restrict gz1, T* __restrict gz2,
                                                      T* __restrict gz3, T* __restrict gz4, int64_t n, int64_t K,
                                                      int64_t begin, int64_t end) {
  static_assert(ORDER == 3 || ORDER == 4);
  if constexpr (KC > 0) K = KC;
#pragma GCC ivdep
  for (int64_t i = begin; i < end; ++i) {
    const TanhDerivatives<T> f(t[i]);
    const T s = f.s, q = f.q, r = f.r, p = f.p, v = f.v;
    T acc = s * g[i];
    for (int64_t k = 0; k < K; ++k) {
      const int64_t j = k * n + i;
      const T d = z1[j], dd = d * d, G1 = g1[j], G2 = g2[j], G3 = g3[j];
      T e = 0, h = 0;
      if constexpr (HAS_Z) {
        e = z2[j];
        h = z3[j];
      }
      const T b2 = q * e + r * dd;                    // d a2 / dz, and a3's dz1 factor / 3
      const T b3 = q * h + (3 * r * e + p * dd) * d;  // d a3 / dz, and a4's dz1 factor / 4
      acc += q * d * G1 + b2 * G2 + b3 * G3;
      T v1 = s * G1 + 2 * q * d * G2 + 3 * b2 * G3, v2 = s * G2 + 3 * q * d * G3, v3 = s * G3;
      if constexpr (ORDER == 4) {
        const T G4 = g4[j], m = HAS_Z ? z4[j] : T(0);
        acc += (q * m + r * (4 * d * h + 3 * e * e) + (6 * p * e + v * dd) * dd) * G4;  // d a4 / dz
        v1 += 4 * b3 * G4;
        v2 += 6 * b2 * G4;
        v3 += 4 * q * d * G4;
        if constexpr (HAS_Z) gz4[j] = s * G4;
      }
      gz1[j] = v1;
      if constexpr (HAS_Z) {
        gz2[j] = v2;
        gz3[j] = v3;
      }
    }
    gz[i] = acc;
  }
}

// Common direction counts (1-D to 3-D problems) get their own instantiation.
#define PHYSIS_BY_K(CALL)                 \
  switch (K) {                            \
    case 1: CALL(1); break;               \
    case 2: CALL(2); break;               \
    case 3: CALL(3); break;               \
    case 4: CALL(4); break;               \
    default: CALL(0); break;              \
  }

// The dispatching entry points: one clone per instruction set.
#define PHYSIS_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))

PHYSIS_CLONES void forward_f(const float* t, const float* z1, const float* z2, float* a1, float* a2, int64_t n,
                             int64_t K, bool summed, int64_t begin, int64_t end) {
#define PHYSIS_CALL(KC) forward_impl<std::remove_const_t<std::remove_pointer_t<decltype(t)>>, KC>(t, z1, z2, a1, a2, n, K, summed, begin, end)
  PHYSIS_BY_K(PHYSIS_CALL)
#undef PHYSIS_CALL
}
PHYSIS_CLONES void forward_d(const double* t, const double* z1, const double* z2, double* a1, double* a2, int64_t n,
                             int64_t K, bool summed, int64_t begin, int64_t end) {
#define PHYSIS_CALL(KC) forward_impl<std::remove_const_t<std::remove_pointer_t<decltype(t)>>, KC>(t, z1, z2, a1, a2, n, K, summed, begin, end)
  PHYSIS_BY_K(PHYSIS_CALL)
#undef PHYSIS_CALL
}
PHYSIS_CLONES void backward_f(const float* t, const float* z1, const float* z2, const float* g, const float* g1,
                              const float* g2, float* gz, float* gz1, float* gz2, int64_t n, int64_t K, bool summed,
                              int64_t begin, int64_t end) {
#define PHYSIS_CALL(KC) backward_impl<std::remove_const_t<std::remove_pointer_t<decltype(t)>>, KC>(t, z1, z2, g, g1, g2, gz, gz1, gz2, n, K, summed, begin, end)
  PHYSIS_BY_K(PHYSIS_CALL)
#undef PHYSIS_CALL
}
PHYSIS_CLONES void backward_d(const double* t, const double* z1, const double* z2, const double* g, const double* g1,
                              const double* g2, double* gz, double* gz1, double* gz2, int64_t n, int64_t K,
                              bool summed, int64_t begin, int64_t end) {
#define PHYSIS_CALL(KC) backward_impl<std::remove_const_t<std::remove_pointer_t<decltype(t)>>, KC>(t, z1, z2, g, g1, g2, gz, gz1, gz2, n, K, summed, begin, end)
  PHYSIS_BY_K(PHYSIS_CALL)
#undef PHYSIS_CALL
}

PHYSIS_CLONES void forward3_f(const float* t, const float* z1, const float* z2, const float* z3, float* a1,
                              float* a2, float* a3, int64_t n, int64_t K, int64_t begin, int64_t end) {
#define PHYSIS_CALL(KC) z2 ? forward_high_impl<float, KC, true, 3>(t, z1, z2, z3, nullptr, a1, a2, a3, nullptr, n, K, begin, end) : forward_high_impl<float, KC, false, 3>(t, z1, z2, z3, nullptr, a1, a2, a3, nullptr, n, K, begin, end)
  PHYSIS_BY_K(PHYSIS_CALL)
#undef PHYSIS_CALL
}
PHYSIS_CLONES void forward3_d(const double* t, const double* z1, const double* z2, const double* z3, double* a1,
                              double* a2, double* a3, int64_t n, int64_t K, int64_t begin, int64_t end) {
#define PHYSIS_CALL(KC) z2 ? forward_high_impl<double, KC, true, 3>(t, z1, z2, z3, nullptr, a1, a2, a3, nullptr, n, K, begin, end) : forward_high_impl<double, KC, false, 3>(t, z1, z2, z3, nullptr, a1, a2, a3, nullptr, n, K, begin, end)
  PHYSIS_BY_K(PHYSIS_CALL)
#undef PHYSIS_CALL
}
PHYSIS_CLONES void backward3_f(const float* t, const float* z1, const float* z2, const float* z3, const float* g,
                               const float* g1, const float* g2, const float* g3, float* gz, float* gz1, float* gz2,
                               float* gz3, int64_t n, int64_t K, int64_t begin, int64_t end) {
#define PHYSIS_CALL(KC) z2 ? backward_high_impl<float, KC, true, 3>(t, z1, z2, z3, nullptr, g, g1, g2, g3, nullptr, gz, gz1, gz2, gz3, nullptr, n, K, begin, end) : backward_high_impl<float, KC, false, 3>(t, z1, z2, z3, nullptr, g, g1, g2, g3, nullptr, gz, gz1, gz2, gz3, nullptr, n, K, begin, end)
  PHYSIS_BY_K(PHYSIS_CALL)
#undef PHYSIS_CALL
}
PHYSIS_CLONES void backward3_d(const double* t, const double* z1, const double* z2, const double* z3,
                               const double* g, const double* g1, const double* g2, const double* g3, double* gz,
                               double* gz1, double* gz2, double* gz3, int64_t n, int64_t K, int64_t begin,
                               int64_t end) {
#define PHYSIS_CALL(KC) z2 ? backward_high_impl<double, KC, true, 3>(t, z1, z2, z3, nullptr, g, g1, g2, g3, nullptr, gz, gz1, gz2, gz3, nullptr, n, K, begin, end) : backward_high_impl<double, KC, false, 3>(t, z1, z2, z3, nullptr, g, g1, g2, g3, nullptr, gz, gz1, gz2, gz3, nullptr, n, K, begin, end)
  PHYSIS_BY_K(PHYSIS_CALL)
#undef PHYSIS_CALL
}

PHYSIS_CLONES void forward4_f(const float* t, const float* z1, const float* z2, const float* z3, const float* z4,
                              float* a1, float* a2, float* a3, float* a4, int64_t n, int64_t K, int64_t begin,
                              int64_t end) {
#define PHYSIS_CALL(KC) z2 ? forward_high_impl<float, KC, true, 4>(t, z1, z2, z3, z4, a1, a2, a3, a4, n, K, begin, end) : forward_high_impl<float, KC, false, 4>(t, z1, z2, z3, z4, a1, a2, a3, a4, n, K, begin, end)
  PHYSIS_BY_K(PHYSIS_CALL)
#undef PHYSIS_CALL
}
PHYSIS_CLONES void forward4_d(const double* t, const double* z1, const double* z2, const double* z3,
                              const double* z4, double* a1, double* a2, double* a3, double* a4, int64_t n, int64_t K,
                              int64_t begin, int64_t end) {
#define PHYSIS_CALL(KC) z2 ? forward_high_impl<double, KC, true, 4>(t, z1, z2, z3, z4, a1, a2, a3, a4, n, K, begin, end) : forward_high_impl<double, KC, false, 4>(t, z1, z2, z3, z4, a1, a2, a3, a4, n, K, begin, end)
  PHYSIS_BY_K(PHYSIS_CALL)
#undef PHYSIS_CALL
}
PHYSIS_CLONES void backward4_f(const float* t, const float* z1, const float* z2, const float* z3, const float* z4,
                               const float* g, const float* g1, const float* g2, const float* g3, const float* g4,
                               float* gz, float* gz1, float* gz2, float* gz3, float* gz4, int64_t n, int64_t K,
                               int64_t begin, int64_t end) {
#define PHYSIS_CALL(KC) z2 ? backward_high_impl<float, KC, true, 4>(t, z1, z2, z3, z4, g, g1, g2, g3, g4, gz, gz1, gz2, gz3, gz4, n, K, begin, end) : backward_high_impl<float, KC, false, 4>(t, z1, z2, z3, z4, g, g1, g2, g3, g4, gz, gz1, gz2, gz3, gz4, n, K, begin, end)
  PHYSIS_BY_K(PHYSIS_CALL)
#undef PHYSIS_CALL
}
PHYSIS_CLONES void backward4_d(const double* t, const double* z1, const double* z2, const double* z3,
                               const double* z4, const double* g, const double* g1, const double* g2,
                               const double* g3, const double* g4, double* gz, double* gz1, double* gz2, double* gz3,
                               double* gz4, int64_t n, int64_t K, int64_t begin, int64_t end) {
#define PHYSIS_CALL(KC) z2 ? backward_high_impl<double, KC, true, 4>(t, z1, z2, z3, z4, g, g1, g2, g3, g4, gz, gz1, gz2, gz3, gz4, n, K, begin, end) : backward_high_impl<double, KC, false, 4>(t, z1, z2, z3, z4, g, g1, g2, g3, g4, gz, gz1, gz2, gz3, gz4, n, K, begin, end)
  PHYSIS_BY_K(PHYSIS_CALL)
#undef PHYSIS_CALL
}

}  // namespace

template <>
void tanh_jet_forward<float>(const float* t, const float* z1, const float* z2, float* a1, float* a2, int64_t n,
                             int64_t K, bool summed, int64_t begin, int64_t end) {
  forward_f(t, z1, z2, a1, a2, n, K, summed, begin, end);
}
template <>
void tanh_jet_forward<double>(const double* t, const double* z1, const double* z2, double* a1, double* a2,
                              int64_t n, int64_t K, bool summed, int64_t begin, int64_t end) {
  forward_d(t, z1, z2, a1, a2, n, K, summed, begin, end);
}
template <>
void tanh_jet_backward<float>(const float* t, const float* z1, const float* z2, const float* g, const float* g1,
                              const float* g2, float* gz, float* gz1, float* gz2, int64_t n, int64_t K, bool summed,
                              int64_t begin, int64_t end) {
  backward_f(t, z1, z2, g, g1, g2, gz, gz1, gz2, n, K, summed, begin, end);
}
template <>
void tanh_jet_backward<double>(const double* t, const double* z1, const double* z2, const double* g,
                               const double* g1, const double* g2, double* gz, double* gz1, double* gz2, int64_t n,
                               int64_t K, bool summed, int64_t begin, int64_t end) {
  backward_d(t, z1, z2, g, g1, g2, gz, gz1, gz2, n, K, summed, begin, end);
}

template <>
void tanh_jet3_forward<float>(const float* t, const float* z1, const float* z2, const float* z3, float* a1, float* a2,
                              float* a3, int64_t n, int64_t K, int64_t begin, int64_t end) {
  forward3_f(t, z1, z2, z3, a1, a2, a3, n, K, begin, end);
}
template <>
void tanh_jet3_forward<double>(const double* t, const double* z1, const double* z2, const double* z3, double* a1,
                               double* a2, double* a3, int64_t n, int64_t K, int64_t begin, int64_t end) {
  forward3_d(t, z1, z2, z3, a1, a2, a3, n, K, begin, end);
}
template <>
void tanh_jet3_backward<float>(const float* t, const float* z1, const float* z2, const float* z3, const float* g,
                               const float* g1, const float* g2, const float* g3, float* gz, float* gz1, float* gz2,
                               float* gz3, int64_t n, int64_t K, int64_t begin, int64_t end) {
  backward3_f(t, z1, z2, z3, g, g1, g2, g3, gz, gz1, gz2, gz3, n, K, begin, end);
}
template <>
void tanh_jet3_backward<double>(const double* t, const double* z1, const double* z2, const double* z3,
                                const double* g, const double* g1, const double* g2, const double* g3, double* gz,
                                double* gz1, double* gz2, double* gz3, int64_t n, int64_t K, int64_t begin,
                                int64_t end) {
  backward3_d(t, z1, z2, z3, g, g1, g2, g3, gz, gz1, gz2, gz3, n, K, begin, end);
}

template <>
void tanh_jet4_forward<float>(const float* t, const float* z1, const float* z2, const float* z3, const float* z4,
                              float* a1, float* a2, float* a3, float* a4, int64_t n, int64_t K, int64_t begin,
                              int64_t end) {
  forward4_f(t, z1, z2, z3, z4, a1, a2, a3, a4, n, K, begin, end);
}
template <>
void tanh_jet4_forward<double>(const double* t, const double* z1, const double* z2, const double* z3,
                               const double* z4, double* a1, double* a2, double* a3, double* a4, int64_t n, int64_t K,
                               int64_t begin, int64_t end) {
  forward4_d(t, z1, z2, z3, z4, a1, a2, a3, a4, n, K, begin, end);
}
template <>
void tanh_jet4_backward<float>(const float* t, const float* z1, const float* z2, const float* z3, const float* z4,
                               const float* g, const float* g1, const float* g2, const float* g3, const float* g4,
                               float* gz, float* gz1, float* gz2, float* gz3, float* gz4, int64_t n, int64_t K,
                               int64_t begin, int64_t end) {
  backward4_f(t, z1, z2, z3, z4, g, g1, g2, g3, g4, gz, gz1, gz2, gz3, gz4, n, K, begin, end);
}
template <>
void tanh_jet4_backward<double>(const double* t, const double* z1, const double* z2, const double* z3,
                                const double* z4, const double* g, const double* g1, const double* g2,
                                const double* g3, const double* g4, double* gz, double* gz1, double* gz2,
                                double* gz3, double* gz4, int64_t n, int64_t K, int64_t begin, int64_t end) {
  backward4_d(t, z1, z2, z3, z4, g, g1, g2, g3, g4, gz, gz1, gz2, gz3, gz4, n, K, begin, end);
}

}  // namespace physis::kernels
