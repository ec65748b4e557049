// Evaluating expressions (PDE residuals, condition residuals) on a batch of points with the network's
// derivatives, by forward (Taylor) mode where that covers what the expressions need and reverse mode otherwise.
#pragma once

#include "core/network.h"
#include "core/taylor.h"
#include "pinn/expression.h"
#include "pinn/sdgd.h"

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace physis::pinn {

enum class DerivativeMode { automatic, taylor, autograd };
DerivativeMode parse_derivative_mode(const std::string& text);  // auto | taylor | autograd

// Forward mode serves derivatives of order <= 2, mixed ones included (u_xx, u_xy), and of order 3 and 4 over at
// most two distinct inputs (u_xxx, u_xxy, u_xxyy; not u_xyz).
bool taylor_can_serve(const std::vector<DerivativeKey>& keys);

// The axes along which forward mode must push derivatives for these keys (sorted, distinct).
std::vector<int64_t> taylor_axes(const std::vector<DerivativeKey>& keys);

// The pairs of distinct axes (i < j) whose mixed derivatives u_ij (or u_iij, u_iijj, ...) the keys ask for (sorted,
// distinct). Forward mode pushes one more direction e_i + e_j per pair and polarizes:
// u_ij = (D^2_{e_i + e_j} u - u_ii - u_jj) / 2, so a mixed derivative costs one direction, not a backward pass.
std::vector<std::pair<int64_t, int64_t>> taylor_pairs(const std::vector<DerivativeKey>& keys);

// The pairs with mixed derivatives of order 3 or 4: forward mode pushes e_i - e_j for them as well, and
// u_iij = (D^3_{e_i + e_j} u - D^3_{e_i - e_j} u - 2 u_jjj) / 6,  u_ijj = (D^3_{e_i + e_j} u + D^3_{e_i - e_j} u - 2 u_iii) / 6.
std::vector<std::pair<int64_t, int64_t>> taylor_difference_pairs(const std::vector<DerivativeKey>& keys);

// The pairs with mixed fourth derivatives: forward mode pushes e_i + 2 e_j for them too (five directions give the
// five fourth derivatives over two inputs; see TaylorContext in residual.cpp).
std::vector<std::pair<int64_t, int64_t>> taylor_skew_pairs(const std::vector<DerivativeKey>& keys);

// The highest derivative order the keys ask for, at least 2 (forward mode carries that order along every direction).
int taylor_order(const std::vector<DerivativeKey>& keys);

// Evaluates a fixed list of expressions with one network pass per batch of points.
class ResidualEvaluator {
 public:
  ResidualEvaluator(std::vector<Expression> expressions, DerivativeMode mode);

  // x [N, d]; extras are [N] tensors named as in the symbol table (e.g. normals n_x). One [N] tensor per expression.
  std::vector<torch::Tensor> evaluate(FieldNetwork& net, const torch::Tensor& x,
                                      const std::map<std::string, torch::Tensor>& extras = {}) const;
  // Residuals with the graph and, for the unbiased and detached forms of a stochastic Laplacian, independent
  // detached partner estimates (pinn/sdgd.h; combine with squared_residual). Exact Laplacians: no partners.
  struct Estimate {
    std::vector<torch::Tensor> residuals, partners;
  };
  Estimate estimate(FieldNetwork& net, const torch::Tensor& x,
                    const std::map<std::string, torch::Tensor>& extras = {}) const;

  // From now on laplace() is estimated stochastically (SDGD or Hutchinson). Throws std::invalid_argument unless
  // every derivative in the expressions sits in laplace() over one set of axes (Poisson, Allen-Cahn, Sine-Gordon,
  // Helmholtz, ...): the other derivatives would need the axes the draw leaves out.
  void set_stochastic_laplacian(const StochasticLaplacian& stochastic);
  bool uses_taylor() const { return taylor_; }
  bool needs_derivatives() const { return needs_derivatives_; }
  bool uses_summed_taylor() const { return summed_; }
  const std::vector<Expression>& expressions() const { return expressions_; }

 private:
  std::vector<Expression> expressions_;
  bool taylor_ = false;
  bool summed_ = false;  // forward mode carries only the Laplacian over axes_ (no separate second derivatives)
  bool needs_derivatives_ = false;
  bool only_laplacians_ = false;  // every derivative is inside laplace() over axes_ (summed mode)
  std::optional<StochasticLaplacian> stochastic_;
  std::vector<int64_t> axes_;
  std::vector<std::pair<int64_t, int64_t>> pairs_;  // mixed second derivatives, by polarization
  std::vector<std::pair<int64_t, int64_t>> difference_pairs_;  // mixed derivatives of order 3 and 4, with pairs_
  std::vector<std::pair<int64_t, int64_t>> skew_pairs_;        // mixed fourth derivatives, with both
  int order_ = 2;

  Jet seed(const torch::Tensor& x) const;  // the forward-mode seed for evaluate()
};

// Jet of a network-free function f: [N, d] -> [N, c] along the jet's directions, by autograd on f alone
// (cheap: no network), detached. Used for the known parts of hard-constraint output transforms.
Jet function_jet(const std::function<torch::Tensor(const torch::Tensor&)>& f, const Jet& x);

// function_jet with a memory of its last few results: fixed collocation points (and fixed seed directions) give
// the same jet at every step, and for hard constraints over CSG piece distances that jet costs more than the
// network's. A call whose points, directions and mode equal a remembered call's returns that jet.
class FunctionJetCache {
 public:
  explicit FunctionJetCache(std::function<torch::Tensor(const torch::Tensor&)> f, std::size_t capacity = 4)
      : f_(std::move(f)), capacity_(capacity) {}
  Jet operator()(const Jet& x);
  int64_t hits() const { return hits_; }
  int64_t misses() const { return misses_; }

 private:
  struct Entry {
    torch::Tensor points, directions;
    bool summed = false;
    int order = 2;
    Jet jet;
  };
  std::function<torch::Tensor(const torch::Tensor&)> f_;
  std::size_t capacity_;
  std::vector<Entry> entries_;  // most recent first
  int64_t hits_ = 0, misses_ = 0;
};

}  // namespace physis::pinn
