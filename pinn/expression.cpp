// Evaluation, inspection and printing of parsed expressions (parsing: expression_parser.cpp).
#include "pinn/expression.h"

#include "pinn/expression_node.h"

#include <algorithm>
#include <charconv>
#include <functional>
#include <ostream>
#include <set>

namespace physis::pinn {

ExpressionError::ExpressionError(int column, std::string helper, std::string problem, std::string hint)
    : std::runtime_error(problem + " at column " + std::to_string(column) +
                         (helper.empty() ? "" : " of helper '" + helper + "'") + (hint.empty() ? "" : "; " + hint)),
      column_(column),
      helper_(std::move(helper)),
      problem_(std::move(problem)),
      hint_(std::move(hint)) {}

std::ostream& operator<<(std::ostream& os, const DerivativeKey& key) {
  os << "{output " << key.output << ", dims [";
  for (size_t k = 0; k < key.dims.size(); ++k) os << (k ? ", " : "") << key.dims[k];
  return os << "]}";
}

torch::Tensor EvalContext::laplacian(int64_t out, const std::vector<int64_t>& dims) {
  torch::Tensor sum = derivative(out, {dims.at(0), dims.at(0)});
  for (size_t k = 1; k < dims.size(); ++k) sum = sum + derivative(out, {dims[k], dims[k]});
  return sum;
}

namespace detail {
namespace {

// One term of a differential operator: the derivative and, for dn(), the normal component multiplying it.
struct Term {
  DerivativeKey key;
  std::string factor;  // extra symbol name, or "" for 1
};

DerivativeKey with(int64_t out, std::vector<int64_t> dims, std::initializer_list<int64_t> more) {
  dims.insert(dims.end(), more);
  std::sort(dims.begin(), dims.end());
  return {out, dims};
}

// The derivatives behind a Derivative, Laplace, Divergence or Normal node (empty for other kinds).
std::vector<Term> expand(const Node& n, const Names& names) {
  std::vector<Term> terms;
  if (n.kind == NodeKind::Derivative) terms.push_back({{n.index, n.dims}, ""});
  for (size_t k = 0; k < n.spatial.size(); ++k) {
    const int64_t i = n.spatial[k];
    if (n.kind == NodeKind::Laplace) terms.push_back({with(n.index, n.dims, {i, i}), ""});
    if (n.kind == NodeKind::Normal) terms.push_back({with(n.index, n.dims, {i}), "n_" + names.inputs[i]});
    if (n.kind == NodeKind::Divergence) terms.push_back({{n.outputs[k], {i}}, ""});
  }
  return terms;
}

void visit(const Node& n, const std::function<void(const Node&)>& f) {
  f(n);
  for (const auto& a : n.args) visit(*a, f);
}

class Evaluator {
 public:
  Evaluator(EvalContext& ctx, const Names& names) : ctx_(ctx), names_(names), options_(ctx.options()) {}

  torch::Tensor eval(const Node& n) {
    if (n.constant) return torch::scalar_tensor(*n.constant, options_);  // 0-dim: broadcasts without copies
    switch (n.kind) {
      case NodeKind::Input: return ctx_.input(n.index);
      case NodeKind::Output: return ctx_.output(n.index);
      case NodeKind::Extra: return ctx_.extra(n.name);
      case NodeKind::Laplace:
        if (n.dims.empty()) return ctx_.laplacian(n.index, n.spatial);  // lets the caller use a cheaper route
        [[fallthrough]];
      case NodeKind::Derivative:
      case NodeKind::Divergence:
      case NodeKind::Normal: return sum(expand(n, names_));
      case NodeKind::Helper: {
        auto it = helpers_.find(&n);  // a helper used twice is evaluated once
        if (it == helpers_.end()) it = helpers_.emplace(&n, eval(*n.args[0])).first;
        return it->second;
      }
      case NodeKind::Call: return call(n);
      case NodeKind::Unknown: return n.unknown.value().to(options_);  // 0-dim, differentiable in raw
      case NodeKind::Number:
      case NodeKind::Parameter: break;  // always constant
    }
    TORCH_CHECK(false, "expression node of unexpected kind");
  }

 private:
  torch::Tensor sum(const std::vector<Term>& terms) {
    torch::Tensor total;
    for (const auto& t : terms) {
      torch::Tensor term = ctx_.derivative(t.key.output, t.key.dims);
      if (!t.factor.empty()) term = term * ctx_.extra(t.factor);
      total = total.defined() ? total + term : term;
    }
    return total;
  }

  torch::Tensor call(const Node& n) {
    // A constant exponent goes to the scalar overload: its kernel and backward are cheaper (x^2 is common).
    const bool power = std::string(n.function->name) == "^" || std::string(n.function->name) == "pow";
    if (power && n.args[1]->constant) return torch::pow(eval(*n.args[0]), *n.args[1]->constant);
    std::vector<torch::Tensor> args;
    for (const auto& a : n.args) args.push_back(eval(*a));
    return n.function->apply(args, n.tolerance);
  }

  EvalContext& ctx_;
  const Names& names_;
  torch::TensorOptions options_;
  std::map<const Node*, torch::Tensor> helpers_;
};

std::string number_text(double v) {
  char buffer[32];
  const auto end = std::to_chars(buffer, buffer + sizeof buffer, v).ptr;  // shortest text that reads back as v
  return std::string(buffer, end);
}

int power_of(const Node& n) {
  if (n.kind != NodeKind::Call || !n.infix) return 100;  // atoms and f(...) never need parentheses
  if (n.args.size() == 1) return kPrefixPower;
  return infix_power(n.function->name)->left;
}

std::string print(const Node& n, const Names& names) {
  auto list = [&](const std::string& f, const std::vector<std::string>& items) {
    std::string out = f + "(";
    for (size_t k = 0; k < items.size(); ++k) out += (k ? ", " : "") + items[k];
    return out + ")";
  };
  switch (n.kind) {
    case NodeKind::Number: return number_text(n.value);
    case NodeKind::Laplace: return "laplace(" + n.name + ")";
    case NodeKind::Normal: return "dn(" + n.name + ")";
    case NodeKind::Divergence: {
      std::vector<std::string> outs;
      for (int64_t j : n.outputs) outs.push_back(names.outputs[j]);
      return list("div", outs);
    }
    case NodeKind::Call: break;
    default: return n.name;
  }
  const std::string op = n.function->name;
  if (!n.infix) {
    std::vector<std::string> args;
    for (const auto& a : n.args) args.push_back(print(*a, names));
    return list(op, args);
  }
  auto wrap = [&](const Node& child, bool parens) {
    std::string text = print(child, names);
    return parens ? text.insert(0, 1, '(').append(1, ')') : text;
  };
  const int p = power_of(n), left = power_of(*n.args[0]);
  if (n.args.size() == 1) return op + wrap(*n.args[0], left <= kPrefixPower);
  const int right = power_of(*n.args[1]);
  // Equal powers: left-associative operators keep a left child bare, ^ keeps a right child bare, and
  // comparisons keep neither (a < b < c does not parse).
  const bool power = op == "^", comparison = p == kComparisonPower;
  const std::string spaced = op == "*" || op == "/" || power ? op : " " + op + " ";
  return wrap(*n.args[0], left < p || (left == p && (power || comparison))) + spaced +
         wrap(*n.args[1], right < p || (right == p && !power));
}

class PointsContext : public EvalContext {
 public:
  explicit PointsContext(const torch::Tensor& x) : x_(x) {}
  torch::Tensor input(int64_t i) override { return x_.select(1, i); }
  torch::Tensor output(int64_t) override { TORCH_CHECK(false, "unreachable: checked in evaluate_on_points"); }
  torch::Tensor derivative(int64_t, const std::vector<int64_t>&) override { return output(0); }
  torch::Tensor extra(const std::string&) override { return output(0); }
  int64_t size() override { return x_.size(0); }
  torch::TensorOptions options() override { return x_.options(); }

 private:
  torch::Tensor x_;
};

}  // namespace
}  // namespace detail

torch::Tensor Expression::evaluate(EvalContext& ctx) const {
  const int64_t n = ctx.size();
  if (root_->constant) return torch::full({n}, *root_->constant, ctx.options());
  torch::Tensor result = detail::Evaluator(ctx, *names_).eval(*root_);
  TORCH_CHECK(result.dim() <= 1, "expression '", text_, "' evaluated to shape ", result.sizes(), "; expected [", n,
              "]: the context returned tensors of the wrong shape");
  return result.dim() == 0 ? result.expand({n}).clone() : result;
}

bool Expression::uses_outputs() const {
  bool uses = false;
  detail::visit(*root_, [&](const detail::Node& n) {
    uses = uses || n.kind == detail::NodeKind::Output || !detail::expand(n, *names_).empty();
  });
  return uses;
}

std::vector<std::string> Expression::unknowns() const {
  std::set<std::string> names;
  detail::visit(*root_, [&](const detail::Node& n) {
    if (n.kind == detail::NodeKind::Unknown) names.insert(n.name);
  });
  return {names.begin(), names.end()};
}

std::vector<DerivativeKey> Expression::derivatives() const {
  std::set<DerivativeKey> keys;
  detail::visit(*root_, [&](const detail::Node& n) {
    for (const auto& t : detail::expand(n, *names_)) keys.insert(t.key);
  });
  return {keys.begin(), keys.end()};
}

std::vector<DerivativeKey> Expression::laplacians() const {
  std::set<DerivativeKey> keys;
  detail::visit(*root_, [&](const detail::Node& n) {
    if (n.kind == detail::NodeKind::Laplace && n.dims.empty()) keys.insert({n.index, n.spatial});
  });
  return {keys.begin(), keys.end()};
}

std::vector<DerivativeKey> Expression::derivatives_besides_laplacians() const {
  std::set<DerivativeKey> keys;
  detail::visit(*root_, [&](const detail::Node& n) {
    if (n.kind == detail::NodeKind::Laplace && n.dims.empty()) return;  // served by EvalContext::laplacian
    for (const auto& t : detail::expand(n, *names_)) keys.insert(t.key);
  });
  return {keys.begin(), keys.end()};
}

std::vector<std::string> Expression::extras() const {
  std::set<std::string> names;
  detail::visit(*root_, [&](const detail::Node& n) {
    if (n.kind == detail::NodeKind::Extra) names.insert(n.name);
    for (const auto& t : detail::expand(n, *names_))
      if (!t.factor.empty()) names.insert(t.factor);
  });
  return {names.begin(), names.end()};
}

bool Expression::is_constant() const { return root_->constant.has_value(); }

double Expression::constant_value() const {
  TORCH_CHECK(is_constant(), "expression '", text_, "' is not constant");
  return *root_->constant;
}

int64_t Expression::num_inputs() const { return static_cast<int64_t>(names_->inputs.size()); }

std::string Expression::to_string() const { return detail::print(*root_, *names_); }

torch::Tensor evaluate_on_points(const Expression& expression, const torch::Tensor& x) {
  if (expression.uses_outputs() || !expression.extras().empty())
    throw std::invalid_argument("expression '" + expression.text() +
                                "' needs network outputs or extra symbols; only coordinates are available here");
  if (!expression.unknowns().empty())
    throw std::invalid_argument("expression '" + expression.text() + "' names the unknown '" +
                                expression.unknowns().front() +
                                "'; fixed data (a hard condition's value, an exact solution, a weight) cannot");
  TORCH_CHECK(x.dim() == 2 && x.size(1) == expression.num_inputs(), "expected points [N, ",
              expression.num_inputs(), "] but got ", x.sizes());
  detail::PointsContext ctx(x);
  return expression.evaluate(ctx);
}

}  // namespace physis::pinn
