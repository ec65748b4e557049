#include "operators/darcy.h"

#include "core/build_config.h"

#include <c10/util/Exception.h>

#include <stdexcept>
#include <vector>

#if PHYSIS_HAVE_EIGEN
#include <Eigen/IterativeLinearSolvers>
#include <Eigen/SparseCholesky>
#endif

namespace physis::ops {

bool darcy_solver_available() { return PHYSIS_HAVE_EIGEN != 0; }

#if PHYSIS_HAVE_EIGEN

namespace {

using SparseMatrix = Eigen::SparseMatrix<double>;
using ConjugateGradient =
    Eigen::ConjugateGradient<SparseMatrix, Eigen::Lower | Eigen::Upper, Eigen::IncompleteCholesky<double>>;

// [n, n] float64, contiguous, on the CPU, after checking the shape.
torch::Tensor grid_values(const torch::Tensor& t, int64_t n, const char* name) {
  TORCH_CHECK(t.defined() && t.dim() == 2 && t.size(0) == n && t.size(1) == n, "DarcySolver: expected ", name,
              " of shape [", n, ", ", n, "] but got ", t.defined() ? t.sizes() : torch::IntArrayRef{});
  return t.to(torch::kCPU, torch::kFloat64).contiguous();
}

}  // namespace

struct DarcySolver::Impl {
  int64_t n = 0;
  DarcySolverOptions options;
  std::vector<int64_t> index;  // [n * n]: unknown number of each vertex, -1 where u = 0
  int64_t unknowns = 0;
  SparseMatrix matrix;
  std::vector<Eigen::Triplet<double>> triplets;
  Eigen::SimplicialLDLT<SparseMatrix> direct;
  bool analysed = false;
  ConjugateGradient cg;
  Eigen::VectorXd previous;

  void number_unknowns(const torch::Tensor& mask) {
    index.assign(static_cast<std::size_t>(n * n), -1);
    torch::Tensor domain = mask.defined() ? grid_values(mask, n, "mask").ne(0) : torch::ones({n, n}, torch::kBool);
    auto in = domain.accessor<bool, 2>();
    for (int64_t j = 1; j + 1 < n; ++j)
      for (int64_t i = 1; i + 1 < n; ++i)
        if (in[j][i] && in[j][i - 1] && in[j][i + 1] && in[j - 1][i] && in[j + 1][i]) index[j * n + i] = unknowns++;
    TORCH_CHECK(unknowns > 0, "DarcySolver: the mask leaves no interior vertex on the ", n, " x ", n, " grid");
  }

  // h^2 times the 5-point operator; rhs = h^2 f.
  void assemble(const double* a, const double* f, Eigen::VectorXd& rhs) {
    const double h = 1.0 / static_cast<double>(n - 1);
    const int64_t offsets[4] = {-1, 1, -n, n};  // west, east, south, north (every unknown has all four)
    triplets.clear();
    rhs.resize(unknowns);
    for (int64_t p = 0; p < n * n; ++p) {
      const int64_t row = index[p];
      if (row < 0) continue;
      double diagonal = 0;
      for (int64_t offset : offsets) {
        const int64_t q = p + offset;
        const double face = 2.0 * a[p] * a[q] / (a[p] + a[q]);
        diagonal += face;
        if (index[q] >= 0) triplets.emplace_back(row, index[q], -face);
      }
      triplets.emplace_back(row, row, diagonal);
      rhs[row] = h * h * f[p];
    }
    matrix.resize(unknowns, unknowns);
    matrix.setFromTriplets(triplets.begin(), triplets.end());
  }

  Eigen::VectorXd solve_system(const Eigen::VectorXd& rhs) {
    if (options.method() == "direct") {
      if (!analysed) direct.analyzePattern(matrix);
      analysed = true;
      direct.factorize(matrix);
      TORCH_CHECK(direct.info() == Eigen::Success, "DarcySolver: the LDLT factorisation failed (is a > 0?)");
      return direct.solve(rhs);
    }
    cg.setTolerance(options.tolerance());
    cg.setMaxIterations(10 * unknowns);
    cg.compute(matrix);
    Eigen::VectorXd u;
    if (options.warm_start() && previous.size() == unknowns)
      u = cg.solveWithGuess(rhs, previous);
    else
      u = cg.solve(rhs);
    TORCH_CHECK(cg.info() == Eigen::Success, "DarcySolver: conjugate gradients did not reach ", options.tolerance(),
                " in ", cg.iterations(), " iterations");
    previous = u;
    return u;
  }
};

DarcySolver::DarcySolver(int64_t n, const torch::Tensor& mask, DarcySolverOptions options)
    : impl_(std::make_unique<Impl>()) {
  TORCH_CHECK(n >= 3, "DarcySolver: expected a grid of at least 3 x 3 vertices but got ", n);
  TORCH_CHECK(options.method() == "direct" || options.method() == "cg", "DarcySolver: unknown method '",
              options.method(), "' (expected direct or cg)");
  impl_->n = n;
  impl_->options = options;
  impl_->number_unknowns(mask);
}

torch::Tensor DarcySolver::solve(const torch::Tensor& a, const torch::Tensor& f) {
  const int64_t n = impl_->n;
  auto a64 = grid_values(a, n, "a");
  auto f64 = grid_values(f, n, "f");
  TORCH_CHECK(a64.gt(0).all().item<bool>(), "DarcySolver: the coefficient a must be positive everywhere");
  Eigen::VectorXd rhs;
  impl_->assemble(a64.data_ptr<double>(), f64.data_ptr<double>(), rhs);
  Eigen::VectorXd x = impl_->solve_system(rhs);
  auto u = torch::zeros({n, n}, torch::kFloat64);
  double* out = u.data_ptr<double>();
  for (int64_t p = 0; p < n * n; ++p)
    if (impl_->index[p] >= 0) out[p] = x[impl_->index[p]];
  return u;
}

#else

struct DarcySolver::Impl {
  int64_t n = 0;
  int64_t unknowns = 0;
  std::vector<int64_t> index;
};

DarcySolver::DarcySolver(int64_t, const torch::Tensor&, DarcySolverOptions) {
  throw std::runtime_error("DarcySolver: this physis build lacks Eigen (needed for the sparse Darcy solver); "
                           "install Eigen 3.3+ (e.g. libeigen3-dev) and reconfigure with -DPHYSIS_EIGEN=ON");
}

torch::Tensor DarcySolver::solve(const torch::Tensor&, const torch::Tensor&) {
  throw std::runtime_error("DarcySolver: this physis build lacks Eigen");
}

#endif

DarcySolver::~DarcySolver() = default;
DarcySolver::DarcySolver(DarcySolver&&) noexcept = default;
DarcySolver& DarcySolver::operator=(DarcySolver&&) noexcept = default;

int64_t DarcySolver::resolution() const { return impl_->n; }
int64_t DarcySolver::unknowns() const { return impl_->unknowns; }

torch::Tensor DarcySolver::interior() const {
  auto result = torch::zeros({impl_->n, impl_->n}, torch::kBool);
  bool* out = result.data_ptr<bool>();
  for (std::size_t p = 0; p < impl_->index.size(); ++p) out[p] = impl_->index[p] >= 0;
  return result;
}

torch::Tensor solve_darcy(const torch::Tensor& a, const torch::Tensor& f, const torch::Tensor& mask,
                          DarcySolverOptions options) {
  return DarcySolver(a.size(0), mask, std::move(options)).solve(a, f);
}

}  // namespace physis::ops
