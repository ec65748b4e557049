// Internals of pinn/expression.h: the parsed tree and the table of operators and functions.
// Shared by the parser (expression_parser.cpp) and evaluation/printing (expression.cpp); not a public header.
#pragma once

#include "pinn/expression.h"

#include <optional>
#include <string>
#include <vector>

namespace physis::pinn::detail {

// One operator or function. Binary operators, unary minus and named functions share this table so that
// evaluation and constant folding go through the same code.
struct Function {
  const char* name;  // "sin", or the operator's spelling "+", "^", "<=", ...
  int arity;
  // tolerance: only == and != use it.
  torch::Tensor (*apply)(const std::vector<torch::Tensor>& args, double tolerance);
};
const Function* find_function(const std::string& name);     // named functions only (sin, pow, ...)
const Function* find_operator(const std::string& spelling, int arity);
std::vector<std::string> function_names();                 // for suggestions, plus laplace/div/dn/d

// Binding powers of the infix operators, loosest first: || 1, && 3, comparisons 5, + - 7, * / 9, ^ 14.
// Left-associative operators bind (left, left + 1); ^ binds (14, 13), so 2^3^2 = 2^(3^2). Prefix minus binds
// its operand with kPrefixPower, below ^ (-x^2 = -(x^2)) and above * (-a*b = (-a)*b).
struct BindingPower {
  int left, right;
};
std::optional<BindingPower> infix_power(const std::string& spelling);
constexpr int kComparisonPower = 5;
constexpr int kPrefixPower = 11;

enum class NodeKind {
  Number,      // value
  Parameter,   // name, value; also the constants pi and e
  Unknown,     // name, unknown: a trainable scalar, never constant
  Input,       // index
  Extra,       // name
  Output,      // index
  Derivative,  // index, dims (sorted)
  Laplace,     // index, dims = base derivative (sorted), spatial = the laplace dims
  Divergence,  // outputs[k] differentiated by spatial[k]
  Normal,      // dn(u): index, spatial; extras "n_<input>"
  Helper,      // name, args[0] = body
  Call,        // function(args): named function, prefix or infix operator
};

struct Node {
  NodeKind kind = NodeKind::Number;
  int column = 0;  // 1-based, in the text the node was parsed from
  double value = 0.0;
  std::string name;
  int64_t index = 0;
  std::vector<int64_t> dims, spatial, outputs;
  const Function* function = nullptr;
  bool infix = false;  // Call printed as "a + b" / "-a" rather than "f(a, b)"
  double tolerance = 0.0;
  std::vector<std::shared_ptr<const Node>> args;
  std::optional<double> constant;  // set at parse time when the whole subtree is constant
  Unknown unknown;                 // NodeKind::Unknown
};

// Names the printer and evaluate_on_points need after parsing.
struct Names {
  std::vector<std::string> inputs, outputs;
  std::vector<int64_t> spatial;  // indices into inputs
};

}  // namespace physis::pinn::detail
