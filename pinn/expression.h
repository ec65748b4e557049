// The expression language of problem files: PDE residuals, boundary/initial data and predicates, parsed once
// into a tree and evaluated on torch tensors (differentiable, no code execution). Reference: docs/expressions.md.
//
//   physis::pinn::SymbolTable s{.inputs = {"x", "t"}, .spatial_inputs = {"x"}, .outputs = {"u"},
//                               .parameters = {{"nu", 0.01}}};
//   auto burgers = physis::pinn::Expression::parse("u_t + u*u_x - nu*u_xx", s);
//   torch::Tensor r = burgers.evaluate(ctx);     // [N]; ctx supplies x, t, u and its derivatives
//   auto g = physis::pinn::Expression::parse("sin(pi*x)*exp(-t)", s);
//   torch::Tensor g_values = physis::pinn::evaluate_on_points(g, points);   // points [N, 2] -> [N]
#pragma once

#include <torch/types.h>

#include <cstdint>
#include <iosfwd>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace physis::pinn {

// A scalar that training finds (an inverse problem's coefficient, DeepXDE's dde.Variable): a 0-dim tensor that
// requires grad, shared by every expression that names it, so an optimizer that holds `raw` moves them all.
// positive: raw holds log(value), so the value stays above 0 whatever the optimizer does.
struct Unknown {
  torch::Tensor raw;
  bool positive = false;
  torch::Tensor value() const { return positive ? raw.exp() : raw; }
};

// What the names in an expression mean. Names must be distinct across the categories.
struct SymbolTable {
  std::vector<std::string> inputs;          // order = column of the input tensor
  std::vector<std::string> spatial_inputs;  // subset used by laplace/div/dn, in this order (empty = all inputs)
  std::vector<std::string> outputs;         // order = column of the network output
  std::map<std::string, double> parameters;
  std::map<std::string, Unknown> unknowns;     // trainable scalars, evaluated as 0-dim tensors with grad
  std::map<std::string, std::string> helpers;  // name -> expression text, parsed where used
  std::vector<std::string> extras;             // caller-provided tensors, e.g. the normals n_x, n_y
  double equality_tolerance = 1e-6;            // a == b means |a - b| <= equality_tolerance
};

// One partial derivative: d^k u_output / dx_dims[0] ... dx_dims[k-1]. dims are sorted (mixed partials commute),
// so u_xy and u_yx are the same key.
struct DerivativeKey {
  int64_t output = 0;
  std::vector<int64_t> dims;
  auto operator<=>(const DerivativeKey&) const = default;
};
std::ostream& operator<<(std::ostream& os, const DerivativeKey& key);  // "{output 0, dims [0, 1]}"

// A mistake in expression text. column() is 1-based within the text of helper() (empty: the expression that was
// parsed; otherwise the named helper's text), so a loader can point at the YAML scalar that holds it.
// what() reads "<problem> at column <c>[ of helper 'h']; <hint>".
class ExpressionError : public std::runtime_error {
 public:
  ExpressionError(int column, std::string helper, std::string problem, std::string hint);
  int column() const { return column_; }
  const std::string& helper() const { return helper_; }
  const std::string& problem() const { return problem_; }  // e.g. "unknown symbol 'nuu'"
  const std::string& hint() const { return hint_; }        // e.g. "did you mean 'nu'? known: x, y, u, nu"

 private:
  int column_;
  std::string helper_, problem_, hint_;
};

// What an expression needs from the caller at evaluation time. All tensors are [N] and share device and dtype.
class EvalContext {
 public:
  virtual ~EvalContext() = default;
  virtual torch::Tensor input(int64_t i) = 0;
  virtual torch::Tensor output(int64_t j) = 0;
  virtual torch::Tensor derivative(int64_t out, const std::vector<int64_t>& dims) = 0;  // dims sorted
  virtual torch::Tensor extra(const std::string& name) = 0;
  // Sum over i in dims of d2 u_out / dx_i^2; override when a cheaper route exists (Taylor mode, cached terms).
  virtual torch::Tensor laplacian(int64_t out, const std::vector<int64_t>& dims);
  // Where constants go: N, device and dtype. Defaults read them from input(0).
  virtual int64_t size() { return input(0).size(0); }
  virtual torch::TensorOptions options() { return input(0).options(); }
};

namespace detail {
struct Node;
struct Names;
}  // namespace detail

class Expression {
 public:
  // Throws ExpressionError for mistakes in text or helpers, std::invalid_argument for an inconsistent table.
  static Expression parse(const std::string& text, const SymbolTable& symbols);

  torch::Tensor evaluate(EvalContext& ctx) const;  // [N]; differentiable, on ctx's device and dtype
  bool uses_outputs() const;                       // false for pure data such as sin(pi*x)
  std::vector<std::string> unknowns() const;       // unknowns named, sorted (directly or through helpers)
  std::vector<DerivativeKey> derivatives() const;  // distinct derivatives needed, sorted; laplace/div/dn expanded
  // The same split in two, for callers that can supply a Laplacian more cheaply than its terms (forward mode):
  // plain laplace(u) uses as {output, spatial dims}, and every other derivative needed.
  std::vector<DerivativeKey> laplacians() const;
  std::vector<DerivativeKey> derivatives_besides_laplacians() const;
  std::vector<std::string> extras() const;         // extra tensors needed, sorted, e.g. {"n_x", "n_y"}
  bool is_constant() const;                        // folded at parse time; constant_value() is then exact
  double constant_value() const;
  std::string to_string() const;  // canonical text: minimal parentheses, derivatives as u_xy; parses back
  const std::string& text() const { return text_; }
  int64_t num_inputs() const;  // columns of the input tensor

 private:
  std::string text_;
  std::shared_ptr<const detail::Node> root_;
  std::shared_ptr<const detail::Names> names_;
};

// Pure coordinate expressions (boundary values, exact solutions, sources): x [N, inputs] -> [N].
// Throws std::invalid_argument when the expression needs outputs or extras.
torch::Tensor evaluate_on_points(const Expression& expression, const torch::Tensor& x);

}  // namespace physis::pinn
