// Pratt parser of the expression language: tokens -> tree, with names resolved against the SymbolTable,
// helpers parsed recursively (cycles rejected) and constant subtrees folded.
#include "pinn/expression.h"
#include "core/strings.h"
#include "pinn/expression_lexer.h"
#include "pinn/expression_node.h"

#include <algorithm>
#include <numbers>
#include <set>

namespace physis::pinn {
namespace detail {
namespace {

using NodePtr = std::shared_ptr<const Node>;

size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diagonal = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = up;
    }
  }
  return row[b.size()];
}

// "did you mean 'nu'? " when a candidate is within two edits (and not a complete rewrite of a short name).
std::string suggestion(const std::string& name, const std::vector<std::string>& candidates) {
  const std::string* best = nullptr;
  size_t best_distance = 3;
  for (const auto& c : candidates) {
    const size_t d = edit_distance(name, c);
    if (d < best_distance && d < std::max(name.size(), c.size())) best = &c, best_distance = d;
  }
  return best ? "did you mean '" + *best + "'? " : "";
}

std::string listed(const std::vector<std::string>& names) { return names.empty() ? "(none)" : physis::join(names); }

std::optional<int64_t> index_of(const std::vector<std::string>& names, const std::string& name) {
  const auto it = std::find(names.begin(), names.end(), name);
  if (it == names.end()) return std::nullopt;
  return it - names.begin();
}

std::shared_ptr<Node> make_node(NodeKind kind, int column) {
  auto n = std::make_shared<Node>();
  n->kind = kind;
  n->column = column;
  return n;
}

// Folds a subtree whose arguments are all constant by running the same torch op on 0-dim float64 tensors,
// so folded and unfolded evaluation cannot disagree.
void fold(Node& n) {
  if (n.kind != NodeKind::Call) return;
  std::vector<torch::Tensor> values;
  for (const auto& a : n.args) {
    if (!a->constant) return;
    values.push_back(torch::scalar_tensor(*a->constant, torch::kFloat64));
  }
  n.constant = n.function->apply(values, n.tolerance).item<double>();
}

// Per parse() call: the symbol table and the helpers parsed so far.
struct Session {
  const SymbolTable& symbols;
  const Names& names;
  std::vector<std::string> helper_stack;    // helpers being parsed, outermost first
  std::map<std::string, NodePtr> helpers;  // finished helper bodies, shared by every reference

  // What a name means, for messages: "an input", "a parameter", ... or "" when unknown.
  std::string category(const std::string& name) const {
    if (index_of(symbols.inputs, name)) return "an input";
    if (index_of(symbols.outputs, name)) return "an output";
    if (symbols.parameters.count(name)) return "a parameter";
    if (symbols.unknowns.count(name)) return "an unknown";
    if (index_of(symbols.extras, name)) return "an extra symbol";
    if (symbols.helpers.count(name)) return "a helper";
    if (name == "pi" || name == "e") return "a constant";
    return "";
  }
  std::vector<std::string> known() const {
    std::vector<std::string> out = symbols.inputs;
    out.insert(out.end(), symbols.outputs.begin(), symbols.outputs.end());
    for (const auto& [name, value] : symbols.parameters) out.push_back(name);
    for (const auto& [name, value] : symbols.unknowns) out.push_back(name);
    out.insert(out.end(), symbols.extras.begin(), symbols.extras.end());
    for (const auto& [name, text] : symbols.helpers) out.push_back(name);
    return out;
  }
};

class Parser {
 public:
  Parser(const std::string& text, std::string helper, Session& session)
      : helper_(std::move(helper)), tokens_(tokenize(text, helper_)), session_(session) {}

  NodePtr parse_all() {
    if (peek().kind == TokenKind::End) fail(peek().column, "empty expression", "write a formula, e.g. 'u_xx + f'");
    NodePtr root = parse(0);
    const Token& t = peek();
    if (t.kind == TokenKind::RightParen)
      fail(t.column, "unbalanced parentheses: ')' has no matching '('", "remove it or add '(' before");
    if (t.kind != TokenKind::End)
      fail(t.column, "unexpected '" + t.text + "' after a complete expression",
           t.kind == TokenKind::Name || t.kind == TokenKind::Number || t.kind == TokenKind::LeftParen
               ? "missing an operator? products need '*', e.g. '2*x'"
               : "remove it or complete the expression");
    return root;
  }

 private:
  [[noreturn]] void fail(int column, const std::string& problem, const std::string& hint) const {
    throw ExpressionError(column, helper_, problem, hint);
  }
  const Token& peek() const { return tokens_[pos_]; }
  const Token& next() { return tokens_[pos_++]; }

  NodePtr parse(int min_power) {
    NodePtr left = prefix();
    bool bare_comparison = false;  // a < b < c is rejected, (a < b) < c is not
    while (true) {
      const Token& op = peek();
      const auto power = op.kind == TokenKind::Operator ? infix_power(op.text) : std::nullopt;
      if (!power || power->left < min_power) break;
      next();
      if (bare_comparison && power->left == kComparisonPower)
        fail(op.column, "chained comparison '" + op.text + "'", "write 'a < x && x < b' for a range");
      NodePtr right = parse(power->right);
      left = call(find_operator(op.text, 2), {left, right}, op.column, true);
      bare_comparison = power->left == kComparisonPower;
    }
    return left;
  }

  NodePtr prefix() {
    const Token& t = next();
    switch (t.kind) {
      case TokenKind::Number: {
        auto n = make_node(NodeKind::Number, t.column);
        n->value = t.number;
        n->constant = t.number;
        return n;
      }
      case TokenKind::Name:
        if (peek().kind == TokenKind::LeftParen) return function_call(t);
        return symbol(t.text, t.column);
      case TokenKind::LeftParen: {
        NodePtr inner = parse(0);
        if (peek().kind == TokenKind::End)
          fail(t.column, "unbalanced parentheses: '(' is never closed", "add ')' at the end");
        if (peek().kind != TokenKind::RightParen)
          fail(peek().column, "expected ')' but found '" + peek().text + "'", "missing an operator or a ')'?");
        next();
        return inner;
      }
      case TokenKind::Operator:
        if (t.text == "-" || t.text == "+")
          return call(find_operator(t.text, 1), {parse(kPrefixPower)}, t.column, true);
        fail(t.column, "expected a number, name or '(' but found '" + t.text + "'", "an operand is missing");
      case TokenKind::RightParen:
        fail(t.column, "unbalanced parentheses: ')' has no matching '('", "remove it or add '(' before");
      case TokenKind::Comma:
        fail(t.column, "unexpected ','", "commas only separate function arguments, e.g. 'pow(x, 2)'");
      case TokenKind::End:
        fail(t.column, "expression ends early", "an operand is missing at the end");
    }
    fail(t.column, "unexpected token", "");
  }

  NodePtr call(const Function* f, std::vector<NodePtr> args, int column, bool infix) {
    auto n = make_node(NodeKind::Call, column);
    n->function = f;
    n->infix = infix;
    n->tolerance = session_.symbols.equality_tolerance;
    n->args = std::move(args);
    fold(*n);
    return n;
  }

  // name(args...): a function from the table or one of the differential operators.
  NodePtr function_call(const Token& name) {
    const Token& open = next();
    std::vector<NodePtr> args;
    if (peek().kind != TokenKind::RightParen) {
      args.push_back(parse(0));
      while (peek().kind == TokenKind::Comma) next(), args.push_back(parse(0));
    }
    if (peek().kind == TokenKind::End)
      fail(open.column, "unbalanced parentheses: '(' of " + name.text + "( is never closed", "add ')'");
    if (peek().kind != TokenKind::RightParen)
      fail(peek().column, "expected ',' or ')' in the arguments of " + name.text + " but found '" + peek().text + "'",
           "missing an operator?");
    next();
    const std::string& f = name.text;
    if (f == "laplace" || f == "div" || f == "dn" || f == "d") return differential(name, args);
    if (f == "grad" || f == "dot")
      fail(name.column, f + "() is not available: vectors are not values here",
           "use dn(u) for the normal derivative n_x*u_x + n_y*u_y, or the components u_x, u_y");
    const Function* function = find_function(f);
    if (!function) {
      const std::string what = session_.category(f);
      if (!what.empty())
        fail(name.column, "'" + f + "' is " + what + ", not a function",
             "write '" + f + "' alone, or '" + f + "*(...)' for a product");
      fail(name.column, "unknown function '" + f + "'",
           suggestion(f, function_names()) + "functions: " + listed(function_names()));
    }
    check_arity(name, args.size(), function->arity, f + (function->arity == 1 ? "(x)" : "(a, b)"));
    return call(function, std::move(args), name.column, false);
  }

  void check_arity(const Token& name, size_t got, size_t expected, const std::string& usage) const {
    if (got != expected)
      fail(name.column,
           name.text + "() takes " + std::to_string(expected) + " argument" + (expected == 1 ? "" : "s") +
               " but got " + std::to_string(got),
           "usage: " + usage);
  }

  // An argument that names a field: an output or one of its derivatives, as {output, sorted dims}.
  std::pair<int64_t, std::vector<int64_t>> field(const NodePtr& arg, const std::string& op) const {
    if (arg->kind == NodeKind::Output || arg->kind == NodeKind::Derivative) return {arg->index, arg->dims};
    fail(arg->column, op + "() needs an output or a derivative of one as its argument",
         "e.g. " + op + "(u); outputs: " + listed(session_.names.outputs));
  }

  NodePtr differential(const Token& name, const std::vector<NodePtr>& args) {
    const Names& names = session_.names;
    const std::string& f = name.text;
    auto n = make_node(NodeKind::Derivative, name.column);
    n->spatial = names.spatial;
    if (f == "d") {
      if (args.size() < 2) check_arity(name, args.size(), 2, "d(u, x) or d(u, x, y, ...)");
      std::tie(n->index, n->dims) = field(args[0], f);
      for (size_t k = 1; k < args.size(); ++k) {
        if (args[k]->kind != NodeKind::Input)
          fail(args[k]->column, "d() differentiates with respect to inputs only",
               "inputs: " + listed(names.inputs));
        n->dims.push_back(args[k]->index);
      }
      std::sort(n->dims.begin(), n->dims.end());
      n->name = field_name(n->index, n->dims);
    } else if (f == "div") {
      check_arity(name, args.size(), names.spatial.size(), "div(u, v) with one output per spatial input");
      n->kind = NodeKind::Divergence;
      for (const auto& a : args) {
        if (a->kind != NodeKind::Output) fail(a->column, "div() takes outputs", "e.g. div(u, v)");
        n->outputs.push_back(a->index);
      }
    } else {
      check_arity(name, args.size(), 1, f + "(u)");
      n->kind = f == "laplace" ? NodeKind::Laplace : NodeKind::Normal;
      std::tie(n->index, n->dims) = field(args[0], f);
      n->name = field_name(n->index, n->dims);
      if (f == "dn") check_normals(name);
    }
    return n;
  }

  void check_normals(const Token& name) const {
    for (int64_t i : session_.names.spatial) {
      const std::string normal = "n_" + session_.names.inputs[i];
      if (!index_of(session_.symbols.extras, normal))
        fail(name.column, "dn() needs the normal component '" + normal + "', which is not available here",
             "dn() is for boundary conditions, where the normals are provided");
    }
  }

  NodePtr symbol(const std::string& name, int column) {
    const SymbolTable& s = session_.symbols;
    auto n = make_node(NodeKind::Input, column);
    n->name = name;
    if (auto i = index_of(s.inputs, name)) {
      n->index = *i;
    } else if (auto j = index_of(s.outputs, name)) {
      n->kind = NodeKind::Output, n->index = *j;
    } else if (auto p = s.parameters.find(name); p != s.parameters.end()) {
      n->kind = NodeKind::Parameter, n->value = p->second, n->constant = p->second;
    } else if (auto u = s.unknowns.find(name); u != s.unknowns.end()) {
      if (!u->second.raw.defined() || u->second.raw.dim() != 0)
        throw std::invalid_argument("unknown '" + name + "' needs a 0-dim tensor");
      n->kind = NodeKind::Unknown, n->unknown = u->second;
    } else if (index_of(s.extras, name)) {
      n->kind = NodeKind::Extra;
    } else if (s.helpers.count(name)) {
      n->kind = NodeKind::Helper;
      n->args = {helper(name, column)};
      n->constant = n->args[0]->constant;
    } else if (name == "pi" || name == "e") {
      n->kind = NodeKind::Parameter;
      n->value = name == "pi" ? std::numbers::pi : std::numbers::e;
      n->constant = n->value;
    } else {
      n = derivative_name(name, column);
      n->name = field_name(n->index, n->dims);
    }
    return n;
  }

  NodePtr helper(const std::string& name, int column) {
    auto& stack = session_.helper_stack;
    if (std::find(stack.begin(), stack.end(), name) != stack.end()) {
      std::string cycle;
      for (auto it = std::find(stack.begin(), stack.end(), name); it != stack.end(); ++it) cycle += *it + " -> ";
      fail(column, "helper cycle " + cycle + name, "a helper cannot use itself, directly or through others");
    }
    if (auto it = session_.helpers.find(name); it != session_.helpers.end()) return it->second;
    stack.push_back(name);
    NodePtr body = Parser(session_.symbols.helpers.at(name), name, session_).parse_all();
    stack.pop_back();
    session_.helpers[name] = body;
    return body;
  }

  // How to_string writes a field: u, u_xy (u_r_theta when an input name is longer than one letter), or
  // d(u, x, y) when that name would resolve to something else.
  std::string field_name(int64_t out, const std::vector<int64_t>& dims) const {
    const Names& names = session_.names;
    if (dims.empty()) return names.outputs[out];
    const bool long_names = std::any_of(names.inputs.begin(), names.inputs.end(),
                                        [](const std::string& n) { return n.size() > 1; });
    std::string name = names.outputs[out] + "_", spelled = "d(" + names.outputs[out];
    for (size_t k = 0; k < dims.size(); ++k) {
      name += (long_names && k > 0 ? "_" : "") + names.inputs[dims[k]];
      spelled += ", " + names.inputs[dims[k]];
    }
    if (!session_.category(name).empty()) return spelled + ")";
    try {
      const auto n = derivative_name(name, 1);
      if (n->index == out && n->dims == dims) return name;
    } catch (const ExpressionError&) {
    }
    return spelled + ")";
  }

  // Ways to write suffix as input names, optionally separated by '_' (u_xy, u_x_y, u_thetatheta); stops at 2.
  void splits(const std::string& suffix, size_t at, std::vector<int64_t>& dims,
              std::vector<std::vector<int64_t>>& found) const {
    if (found.size() >= 2) return;
    if (at == suffix.size()) return found.push_back(dims);
    const auto& inputs = session_.names.inputs;
    for (size_t i = 0; i < inputs.size(); ++i) {
      if (suffix.compare(at, inputs[i].size(), inputs[i]) != 0) continue;
      size_t after = at + inputs[i].size();
      if (after + 1 < suffix.size() && suffix[after] == '_') ++after;
      dims.push_back(static_cast<int64_t>(i));
      splits(suffix, after, dims, found);
      dims.pop_back();
    }
  }

  // <output>_<inputs>: every '_' is tried as the separator, so outputs may contain '_' themselves.
  std::shared_ptr<Node> derivative_name(const std::string& name, int column) const {
    const Names& names = session_.names;
    std::optional<std::string> non_input_suffix, non_output_prefix;
    std::shared_ptr<Node> match;
    for (size_t p = name.find('_'); p != std::string::npos && p + 1 < name.size(); p = name.find('_', p + 1)) {
      const std::string prefix = name.substr(0, p), suffix = name.substr(p + 1);
      std::vector<int64_t> dims;
      std::vector<std::vector<int64_t>> found;
      splits(suffix, 0, dims, found);
      const auto output = index_of(names.outputs, prefix);
      if (output && found.empty()) non_input_suffix = suffix;
      if (!output && !found.empty() && !session_.category(prefix).empty()) non_output_prefix = prefix;
      if (!output || found.empty()) continue;
      if (found.size() > 1 || match)
        fail(column, "ambiguous derivative name '" + name + "'",
             "spell it out with d(), e.g. d(" + prefix + ", " + names.inputs[found[0][0]] + ", ...)");
      auto n = make_node(NodeKind::Derivative, column);
      n->index = *output;
      n->dims = found[0];
      std::sort(n->dims.begin(), n->dims.end());
      match = n;
    }
    if (match) return match;
    if (non_output_prefix)
      fail(column, "cannot differentiate '" + *non_output_prefix + "' (" + session_.category(*non_output_prefix) +
                       ") in '" + name + "'",
           "only outputs can be differentiated: " + listed(names.outputs));
    if (non_input_suffix)
      fail(column + static_cast<int>(name.size() - non_input_suffix->size()),
           "'" + *non_input_suffix + "' in '" + name + "' is not a list of inputs",
           "derivatives are taken with respect to inputs: " + listed(names.inputs));
    if (find_function(name) || name == "laplace" || name == "div" || name == "dn" || name == "d")
      fail(column, "function '" + name + "' without arguments", "write " + name + "(...)");
    fail(column, "unknown symbol '" + name + "'",
         suggestion(name, session_.known()) + "known: " + listed(session_.known()));
  }

  std::string helper_;
  std::vector<Token> tokens_;
  size_t pos_ = 0;
  Session& session_;
};

// Names are identifiers, distinct across categories; spatial inputs are inputs.
Names check_table(const SymbolTable& s) {
  std::set<std::string> seen;
  auto add = [&](const std::string& name) {
    if (!seen.insert(name).second) throw std::invalid_argument("symbol '" + name + "' is declared twice");
  };
  for (const auto& n : s.inputs) add(n);
  for (const auto& n : s.outputs) add(n);
  for (const auto& [n, v] : s.parameters) add(n);
  for (const auto& [n, v] : s.unknowns) add(n);
  for (const auto& n : s.extras) add(n);
  for (const auto& [n, t] : s.helpers) add(n);
  if (s.inputs.empty()) throw std::invalid_argument("the symbol table declares no inputs");
  Names names{s.inputs, s.outputs, {}};
  for (const auto& n : s.spatial_inputs.empty() ? s.inputs : s.spatial_inputs) {
    const auto i = index_of(s.inputs, n);
    if (!i) throw std::invalid_argument("spatial input '" + n + "' is not an input");
    names.spatial.push_back(*i);
  }
  return names;
}

}  // namespace
}  // namespace detail

Expression Expression::parse(const std::string& text, const SymbolTable& symbols) {
  auto names = std::make_shared<const detail::Names>(detail::check_table(symbols));
  detail::Session session{symbols, *names, {}, {}};
  Expression e;
  e.text_ = text;
  e.root_ = detail::Parser(text, "", session).parse_all();
  e.names_ = names;
  return e;
}

}  // namespace physis::pinn
