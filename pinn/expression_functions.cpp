// The operators and functions of the expression language, as torch ops on [N] or 0-dim tensors.
// Predicates (comparisons, &&, ||, heaviside, sign) return 1/0 in the operands' dtype; their gradient is zero.
#include "pinn/expression_node.h"

#include <array>

namespace physis::pinn::detail {
namespace {

using Args = std::vector<torch::Tensor>;

torch::Tensor as_number(const torch::Tensor& predicate, const torch::Tensor& like) {
  return predicate.to(like.scalar_type());
}
torch::Tensor truth(const torch::Tensor& t) { return t != 0; }
torch::Tensor promoted(const Args& a) {  // a tensor of the dtype a binary op of a[0], a[1] would give
  return a[0].to(torch::result_type(a[0], a[1]));
}

#define PHYSIS_UNARY(fn) +[](const Args& a, double) { return torch::fn(a[0]); }

const std::array kFunctions = {
    Function{"sin", 1, PHYSIS_UNARY(sin)},
    Function{"cos", 1, PHYSIS_UNARY(cos)},
    Function{"tan", 1, PHYSIS_UNARY(tan)},
    Function{"exp", 1, PHYSIS_UNARY(exp)},
    Function{"log", 1, PHYSIS_UNARY(log)},
    Function{"tanh", 1, PHYSIS_UNARY(tanh)},
    Function{"sinh", 1, PHYSIS_UNARY(sinh)},
    Function{"cosh", 1, PHYSIS_UNARY(cosh)},
    Function{"sqrt", 1, PHYSIS_UNARY(sqrt)},
    Function{"abs", 1, PHYSIS_UNARY(abs)},
    Function{"sign", 1, PHYSIS_UNARY(sign)},
    // H(0) = 1/2, the symmetric convention; built from comparisons because torch::heaviside has no gradient.
    Function{"heaviside", 1,
             +[](const Args& a, double) {
               return as_number(a[0] > 0, a[0]) + 0.5 * as_number(a[0] == 0, a[0]);
             }},
    Function{"pow", 2, +[](const Args& a, double) { return torch::pow(a[0], a[1]); }},
    Function{"min", 2, +[](const Args& a, double) { return torch::minimum(a[0], a[1]); }},
    Function{"max", 2, +[](const Args& a, double) { return torch::maximum(a[0], a[1]); }},
    Function{"atan2", 2, +[](const Args& a, double) { return torch::atan2(a[0], a[1]); }},
};

const std::array kOperators = {
    Function{"+", 2, +[](const Args& a, double) { return a[0] + a[1]; }},
    Function{"-", 2, +[](const Args& a, double) { return a[0] - a[1]; }},
    Function{"*", 2, +[](const Args& a, double) { return a[0] * a[1]; }},
    Function{"/", 2, +[](const Args& a, double) { return a[0] / a[1]; }},
    Function{"^", 2, +[](const Args& a, double) { return torch::pow(a[0], a[1]); }},
    Function{"-", 1, +[](const Args& a, double) { return -a[0]; }},
    Function{"+", 1, +[](const Args& a, double) { return a[0]; }},
    Function{"<", 2, +[](const Args& a, double) { return as_number(a[0] < a[1], promoted(a)); }},
    Function{"<=", 2, +[](const Args& a, double) { return as_number(a[0] <= a[1], promoted(a)); }},
    Function{">", 2, +[](const Args& a, double) { return as_number(a[0] > a[1], promoted(a)); }},
    Function{">=", 2, +[](const Args& a, double) { return as_number(a[0] >= a[1], promoted(a)); }},
    Function{"==", 2,
             +[](const Args& a, double tol) { return as_number((a[0] - a[1]).abs() <= tol, promoted(a)); }},
    Function{"!=", 2,
             +[](const Args& a, double tol) { return as_number((a[0] - a[1]).abs() > tol, promoted(a)); }},
    Function{"&&", 2,
             +[](const Args& a, double) {
               return as_number(torch::logical_and(truth(a[0]), truth(a[1])), promoted(a));
             }},
    Function{"||", 2,
             +[](const Args& a, double) {
               return as_number(torch::logical_or(truth(a[0]), truth(a[1])), promoted(a));
             }},
};

#undef PHYSIS_UNARY

}  // namespace

const Function* find_function(const std::string& name) {
  for (const auto& f : kFunctions)
    if (name == f.name) return &f;
  return nullptr;
}

const Function* find_operator(const std::string& spelling, int arity) {
  for (const auto& f : kOperators)
    if (spelling == f.name && arity == f.arity) return &f;
  return nullptr;
}

std::optional<BindingPower> infix_power(const std::string& op) {
  if (op == "||") return BindingPower{1, 2};
  if (op == "&&") return BindingPower{3, 4};
  if (op == "<" || op == "<=" || op == ">" || op == ">=" || op == "==" || op == "!=")
    return BindingPower{kComparisonPower, kComparisonPower + 1};
  if (op == "+" || op == "-") return BindingPower{7, 8};
  if (op == "*" || op == "/") return BindingPower{9, 10};
  if (op == "^") return BindingPower{14, 13};
  return std::nullopt;
}

std::vector<std::string> function_names() {
  std::vector<std::string> names{"laplace", "div", "dn", "d"};
  for (const auto& f : kFunctions) names.emplace_back(f.name);
  return names;
}

}  // namespace physis::pinn::detail
