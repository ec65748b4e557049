// The expression language: parsing, evaluation against std:: math and autograd derivatives, error columns.
#include "pinn/expression.h"

#include "core/diff.h"

#include <catch2/catch.hpp>

#include <cmath>
#include <functional>
#include <numbers>

using physis::pinn::DerivativeKey;
using physis::pinn::EvalContext;
using physis::pinn::Expression;
using physis::pinn::ExpressionError;
using physis::pinn::SymbolTable;

namespace {

SymbolTable plane() {  // x, y, one output, one parameter
  SymbolTable s;
  s.inputs = {"x", "y"};
  s.outputs = {"u"};
  s.parameters = {{"nu", 0.01}};
  return s;
}

SymbolTable space_time() {  // x, y, t with spatial x, y; outputs u, v, p; boundary normals
  SymbolTable s;
  s.inputs = {"x", "y", "t"};
  s.spatial_inputs = {"x", "y"};
  s.outputs = {"u", "v", "p"};
  s.parameters = {{"k", 2.0}};
  s.extras = {"n_x", "n_y"};
  return s;
}

double constant(const std::string& text) { return Expression::parse(text, plane()).constant_value(); }

// Evaluates an expression of x alone on the given values (float64) through evaluate_on_points.
torch::Tensor on_x(const std::string& text, const std::vector<double>& xs, SymbolTable s = plane()) {
  auto x = torch::tensor(xs, torch::kFloat64);
  return physis::pinn::evaluate_on_points(Expression::parse(text, s), torch::stack({x, torch::zeros_like(x)}, 1));
}

// Runs parse and returns the error it throws (fails the test when none is thrown).
ExpressionError error_of(const std::string& text, const SymbolTable& s = plane()) {
  try {
    Expression::parse(text, s);
  } catch (const ExpressionError& e) {
    return e;
  }
  FAIL("no ExpressionError for '" << text << "'");
  return ExpressionError(0, "", "", "");  // not reached: FAIL throws
}

// Each derivative is a distinct constant, so sums of derivatives reveal exactly which terms were taken.
class RecordingContext : public EvalContext {
 public:
  static double code(int64_t out, const std::vector<int64_t>& dims) {
    double c = 1000.0 * (out + 1);
    for (size_t k = 0; k < dims.size(); ++k) c += (dims[k] + 1) * std::pow(10.0, k);
    return c;
  }
  torch::Tensor input(int64_t i) override { return torch::full({3}, 0.5 + i, torch::kFloat64); }
  torch::Tensor output(int64_t j) override { return torch::full({3}, 7.0 + j, torch::kFloat64); }
  torch::Tensor derivative(int64_t out, const std::vector<int64_t>& dims) override {
    return torch::full({3}, code(out, dims), torch::kFloat64);
  }
  torch::Tensor extra(const std::string& name) override {
    return torch::full({3}, name == "n_x" ? 0.6 : 0.8, torch::kFloat64);
  }
};

double recorded(const std::string& text, const SymbolTable& s = space_time()) {
  RecordingContext ctx;
  return Expression::parse(text, s).evaluate(ctx)[0].item<double>();
}

// Network-free stand-in for a PINN: u(x) computed with torch ops, derivatives by physis::Derivatives.
class AutogradContext : public EvalContext {
 public:
  AutogradContext(torch::Tensor x, torch::Tensor u) : d_(std::move(x), std::move(u)) {}
  torch::Tensor input(int64_t i) override { return d_.inputs().select(1, i); }
  torch::Tensor output(int64_t j) override { return d_.value(j); }
  torch::Tensor derivative(int64_t out, const std::vector<int64_t>& dims) override { return d_.d(out, dims); }
  torch::Tensor laplacian(int64_t out, const std::vector<int64_t>& dims) override { return d_.laplacian(out, dims); }
  torch::Tensor extra(const std::string&) override { return {}; }

 private:
  physis::Derivatives d_;
};

}  // namespace

TEST_CASE("expression: precedence and associativity", "[expression]") {
  CHECK(constant("2^3^2") == 512.0);
  CHECK(constant("2**3**2") == 512.0);
  CHECK(constant("(2^3)^2") == 64.0);
  CHECK(constant("-2^2") == -4.0);
  CHECK(constant("(-2)^2") == 4.0);
  CHECK(constant("2^-1") == 0.5);
  CHECK(constant("1-2-3") == -4.0);
  CHECK(constant("8/4/2") == 1.0);
  CHECK(constant("2+3*4") == 14.0);
  CHECK(constant("-3*2+1") == -5.0);
  CHECK(constant("+2 - -3") == 5.0);
  CHECK(constant("1e-3*1E3 + .5 + 2.") == 2.5 + 1.0);
  CHECK(constant("1 + 2 < 4 && 2*3 == 6") == 1.0);
  CHECK(constant("0 || 1 && 0") == 0.0);  // && binds tighter than ||
  // The same rules on tensors (no folding): -x^2 = -(x^2).
  CHECK(on_x("-x^2", {3.0})[0].item<double>() == -9.0);
  CHECK(on_x("x^3^2", {2.0})[0].item<double>() == 512.0);
  CHECK(on_x("x - 2 - 3", {1.0})[0].item<double>() == -4.0);
}

TEST_CASE("expression: to_string is canonical and parses back", "[expression]") {
  const SymbolTable s = space_time();
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"u_t + u*u_x - k*u_xx", "u_t + u*u_x - k*u_xx"},
      {"(2^3)^2", "(2^3)^2"},
      {"2^(3^2)", "2^3^2"},
      {"1-(2-3)", "1 - (2 - 3)"},
      {"(1-2)-3", "1 - 2 - 3"},
      {"-x^2", "-x^2"},
      {"(-x)^2", "(-x)^2"},
      {"2^-1", "2^(-1)"},
      {"u_yx + d(v, y, x)", "u_xy + v_xy"},
      {"1e-3*pow(x, 2)", "0.001*pow(x, 2)"},
      {"-laplace(u) + k^2*u", "-laplace(u) + k^2*u"},
      {"div(u, v) + dn(p)", "div(u, v) + dn(p)"},
      {"(x < 1) == (y > 0) || t >= 2", "(x < 1) == (y > 0) || t >= 2"},
  };
  for (const auto& [text, canonical] : cases) {
    INFO(text);
    const std::string printed = Expression::parse(text, s).to_string();
    CHECK(printed == canonical);
    CHECK(Expression::parse(printed, s).to_string() == printed);
  }
}

TEST_CASE("expression: every function matches std math", "[expression]") {
  const std::vector<double> xs = {0.3, 0.7, 1.9};
  const std::vector<std::pair<std::string, std::function<double(double)>>> functions = {
      {"sin(x)", [](double x) { return std::sin(x); }},
      {"cos(x)", [](double x) { return std::cos(x); }},
      {"tan(x)", [](double x) { return std::tan(x); }},
      {"exp(x)", [](double x) { return std::exp(x); }},
      {"log(x)", [](double x) { return std::log(x); }},
      {"tanh(x)", [](double x) { return std::tanh(x); }},
      {"sinh(x)", [](double x) { return std::sinh(x); }},
      {"cosh(x)", [](double x) { return std::cosh(x); }},
      {"sqrt(x)", [](double x) { return std::sqrt(x); }},
      {"abs(x - 1)", [](double x) { return std::abs(x - 1); }},
      {"sign(x - 0.7)", [](double x) { return x > 0.7 ? 1.0 : x < 0.7 ? -1.0 : 0.0; }},
      {"heaviside(x - 0.7)", [](double x) { return x > 0.7 ? 1.0 : x < 0.7 ? 0.0 : 0.5; }},
      {"pow(x, 2.5)", [](double x) { return std::pow(x, 2.5); }},
      {"x^x", [](double x) { return std::pow(x, x); }},
      {"min(x, 0.5)", [](double x) { return std::min(x, 0.5); }},
      {"max(x, 0.5)", [](double x) { return std::max(x, 0.5); }},
      {"atan2(x, -0.5)", [](double x) { return std::atan2(x, -0.5); }},
      {"pi*x + e", [](double x) { return std::numbers::pi * x + std::numbers::e; }},
  };
  for (const auto& [text, reference] : functions) {
    INFO(text);
    const auto values = on_x(text, xs);
    for (size_t i = 0; i < xs.size(); ++i) {
      CHECK(values[i].item<double>() == Approx(reference(xs[i])).epsilon(1e-14));
      // With x a parameter the expression is folded at parse time: the same value without tensors.
      SymbolTable folded;
      folded.inputs = {"y"};
      folded.parameters = {{"x", xs[i]}};
      CHECK(Expression::parse(text, folded).constant_value() == Approx(reference(xs[i])).epsilon(1e-14));
    }
  }
}

TEST_CASE("expression: comparisons and logic give 1/0", "[expression]") {
  const std::vector<double> xs = {0.0, 1.0, 2.0};
  auto values = [&](const std::string& text) {
    auto t = on_x(text, xs);
    return std::vector<double>(t.data_ptr<double>(), t.data_ptr<double>() + t.numel());
  };
  CHECK(values("x < 1") == std::vector<double>{1, 0, 0});
  CHECK(values("x <= 1") == std::vector<double>{1, 1, 0});
  CHECK(values("x > 1") == std::vector<double>{0, 0, 1});
  CHECK(values("x >= 1") == std::vector<double>{0, 1, 1});
  CHECK(values("x == 1") == std::vector<double>{0, 1, 0});
  CHECK(values("x != 1") == std::vector<double>{1, 0, 1});
  CHECK(values("x > 0 && x < 2") == std::vector<double>{0, 1, 0});
  CHECK(values("x < 0.5 || x > 1.5") == std::vector<double>{1, 0, 1});
  // == uses the table's tolerance.
  SymbolTable loose = plane(), strict = plane();
  loose.equality_tolerance = 1e-6;
  strict.equality_tolerance = 0.0;
  CHECK(on_x("x == 1", {1.0 + 1e-9}, loose)[0].item<double>() == 1.0);
  CHECK(on_x("x == 1", {1.0 + 1e-9}, strict)[0].item<double>() == 0.0);
}

TEST_CASE("expression: derivative names resolve to (output, dims)", "[expression]") {
  const SymbolTable s = space_time();
  auto key = [&](const std::string& text, const SymbolTable& table) {
    const auto keys = Expression::parse(text, table).derivatives();
    REQUIRE(keys.size() == 1);
    return keys[0];
  };
  CHECK(key("u_xy", s) == DerivativeKey{0, {0, 1}});
  CHECK(key("u_yx", s) == DerivativeKey{0, {0, 1}});
  CHECK(key("d(u, y, x)", s) == DerivativeKey{0, {0, 1}});
  CHECK(key("u_tt", s) == DerivativeKey{0, {2, 2}});
  CHECK(key("p_y", s) == DerivativeKey{2, {1}});
  CHECK(key("v_xxy", s) == DerivativeKey{1, {0, 0, 1}});
  CHECK(key("d(u_x, y)", s) == DerivativeKey{0, {0, 1}});
  CHECK(Expression::parse("u + 1", s).derivatives().empty());

  SymbolTable polar;
  polar.inputs = {"r", "theta", "t"};
  polar.outputs = {"u", "u_1"};
  CHECK(key("u_thetatheta", polar) == DerivativeKey{0, {1, 1}});
  CHECK(key("u_rtheta", polar) == DerivativeKey{0, {0, 1}});
  CHECK(key("u_r_theta", polar) == DerivativeKey{0, {0, 1}});
  CHECK(key("u_tt", polar) == DerivativeKey{0, {2, 2}});
  CHECK(key("u_1_r", polar) == DerivativeKey{1, {0}});  // outputs may contain '_'
  CHECK(Expression::parse("u_rtheta", polar).to_string() == "u_r_theta");

  SymbolTable clash;  // "xy" is both an input and x followed by y
  clash.inputs = {"x", "y", "xy"};
  clash.outputs = {"u"};
  CHECK_THAT(error_of("u_xy", clash).problem(), Catch::Contains("ambiguous derivative name 'u_xy'"));
  CHECK(key("d(u, x, y)", clash) == DerivativeKey{0, {0, 1}});
  CHECK(key("d(u, xy)", clash) == DerivativeKey{0, {2}});
  CHECK(Expression::parse("d(u, xy)", clash).to_string() == "d(u, xy)");  // u_xy would be ambiguous

  // A declared symbol wins over the derivative pattern.
  SymbolTable declared = plane();
  declared.parameters["u_x"] = 4.0;
  const auto e = Expression::parse("u_x", declared);
  CHECK_FALSE(e.uses_outputs());
  CHECK(e.constant_value() == 4.0);
  CHECK(Expression::parse("d(u, x)", declared).to_string() == "d(u, x)");
}

TEST_CASE("expression: laplace, div and dn expand over the spatial inputs", "[expression]") {
  using Key = DerivativeKey;
  const SymbolTable s = space_time();  // spatial x, y; t is not spatial
  const auto c = RecordingContext::code;
  CHECK(Expression::parse("laplace(u)", s).derivatives() == std::vector<Key>{{0, {0, 0}}, {0, {1, 1}}});
  CHECK(recorded("laplace(u)") == c(0, {0, 0}) + c(0, {1, 1}));
  CHECK(recorded("laplace(u_t)") == c(0, {0, 0, 2}) + c(0, {1, 1, 2}));
  CHECK(Expression::parse("div(u, v)", s).derivatives() == std::vector<Key>{{0, {0}}, {1, {1}}});
  CHECK(recorded("div(u, v)") == c(0, {0}) + c(1, {1}));
  CHECK(recorded("dn(p)") == Approx(0.6 * c(2, {0}) + 0.8 * c(2, {1})));
  CHECK(Expression::parse("dn(p)", s).extras() == std::vector<std::string>{"n_x", "n_y"});
  CHECK(recorded("u_t + u*u_x - k*u_xx") == c(0, {2}) + 7.0 * c(0, {0}) - 2.0 * c(0, {0, 0}));
  // Without spatial_inputs every input is spatial.
  SymbolTable all = plane();
  CHECK(Expression::parse("laplace(u)", all).derivatives().size() == 2);
  all.inputs.push_back("z");
  CHECK(Expression::parse("laplace(u)", all).derivatives().size() == 3);

  CHECK(error_of("div(u, v, p)", s).column() == 1);
  CHECK_THAT(error_of("dn(u)", plane()).problem(), Catch::Contains("n_x"));
  CHECK_THAT(error_of("dot(grad(u), n)", s).hint(), Catch::Contains("dn(u)"));
  CHECK(error_of("laplace(x)", s).column() == 9);
}

TEST_CASE("expression: helpers are expanded and cycles rejected", "[expression]") {
  SymbolTable s = plane();
  s.helpers = {{"f", "sin(pi*x)"}, {"g", "2*f + nu"}, {"c", "2*nu"}};
  const auto e = Expression::parse("g - 1", s);
  CHECK(e.to_string() == "g - 1");
  CHECK_FALSE(e.is_constant());
  CHECK(on_x("g - 1", {0.25}, s)[0].item<double>() == Approx(2 * std::sin(std::numbers::pi / 4) + 0.01 - 1));
  CHECK(Expression::parse("c^2", s).constant_value() == Approx(4e-4));

  s.helpers = {{"a", "b + 1"}, {"b", "2*a"}};
  const auto cycle = error_of("x + a", s);
  CHECK_THAT(cycle.problem(), Catch::Contains("helper cycle a -> b -> a"));
  CHECK(cycle.helper() == "b");
  CHECK(cycle.column() == 3);
  s.helpers = {{"a", "a + 1"}};
  CHECK_THAT(error_of("a", s).problem(), Catch::Contains("helper cycle a -> a"));
  s.helpers = {{"h", "x + nuu"}};
  const auto inner = error_of("1 + h", s);
  CHECK(inner.helper() == "h");
  CHECK(inner.column() == 5);
  CHECK_THAT(inner.what(), Catch::Contains("at column 5 of helper 'h'"));
}

TEST_CASE("expression: errors carry the column and a hint", "[expression]") {
  const auto unknown = error_of("u_xx - 1 + nuu");
  CHECK(unknown.column() == 12);
  CHECK(std::string(unknown.what()) ==
        "unknown symbol 'nuu' at column 12; did you mean 'nu'? known: x, y, u, nu");

  struct Case {
    std::string text;
    int column;
    std::string problem;
  };
  const std::vector<Case> cases = {
      {"1 + sinn(x)", 5, "unknown function 'sinn'"},
      {"1 + pow(x)", 5, "pow() takes 2 arguments but got 1"},
      {"sin(x, y)", 1, "sin() takes 1 argument but got 2"},
      {"(x + 1", 1, "'(' is never closed"},
      {"sin(x", 4, "is never closed"},
      {"x + 1)", 6, "')' has no matching '('"},
      {"(x + 1))", 8, "')' has no matching '('"},
      {"2 x", 3, "unexpected 'x' after a complete expression"},
      {"x + * y", 5, "expected a number, name or '('"},
      {"", 1, "empty expression"},
      {"x +", 4, "expression ends early"},
      {"nu_x", 1, "cannot differentiate 'nu' (a parameter) in 'nu_x'"},
      {"x_y", 1, "cannot differentiate 'x' (an input)"},
      {"2*sin", 3, "function 'sin' without arguments"},
      {"u_xq", 3, "'xq' in 'u_xq' is not a list of inputs"},
      {"d(u, nu)", 6, "d() differentiates with respect to inputs only"},
      {"d(x, y)", 3, "d() needs an output"},
      {"x $ 1", 3, "unexpected character '$'"},
      {"0 < x < 1", 7, "chained comparison"},
      {"u(x)", 1, "'u' is an output, not a function"},
      {"pow(x,, 2)", 7, "unexpected ','"},
  };
  for (const auto& c : cases) {
    INFO(c.text);
    const auto e = error_of(c.text);
    CHECK(e.column() == c.column);
    CHECK_THAT(e.problem(), Catch::Contains(c.problem));
    CHECK_FALSE(e.hint().empty());
    CHECK(e.helper().empty());
  }
  CHECK_THAT(error_of("x = 1").hint(), Catch::Contains("'=='"));
  CHECK_THAT(error_of("sinn(x)").hint(), Catch::Contains("did you mean 'sin'?"));
  SymbolTable twice = plane();
  twice.parameters["x"] = 1.0;
  CHECK_THROWS_AS(Expression::parse("x", twice), std::invalid_argument);
}

TEST_CASE("expression: evaluation follows dtype and needs no outputs for data", "[expression]") {
  const auto data = Expression::parse("sin(pi*x)*exp(-y)", plane());
  CHECK_FALSE(data.uses_outputs());
  CHECK(Expression::parse("nu*u_x", plane()).uses_outputs());
  CHECK(Expression::parse("laplace(u)", plane()).uses_outputs());
  const auto x = torch::rand({5, 2}, torch::kFloat32);
  const auto values = physis::pinn::evaluate_on_points(data, x);
  CHECK(values.scalar_type() == torch::kFloat32);
  CHECK(values.sizes() == torch::IntArrayRef{5});
  CHECK(torch::allclose(values, torch::sin(std::numbers::pi * x.select(1, 0)) * torch::exp(-x.select(1, 1))));
  // A constant broadcasts to [N].
  const auto two = physis::pinn::evaluate_on_points(Expression::parse("2*nu", plane()), x);
  CHECK(two.sizes() == torch::IntArrayRef{5});
  CHECK(two[4].item<float>() == Approx(0.02f));
  CHECK_THROWS_AS(physis::pinn::evaluate_on_points(Expression::parse("u", plane()), x), std::invalid_argument);
}

TEST_CASE("expression: derivatives by autograd match the analytic Laplacian", "[expression]") {
  torch::manual_seed(0);
  const double pi = std::numbers::pi;
  auto x = torch::rand({64, 2}, torch::kFloat64).requires_grad_(true);
  auto X = x.select(1, 0), Y = x.select(1, 1);
  // u = sin(pi x) e^y + x^3 y^2
  auto u = (torch::sin(pi * X) * torch::exp(Y) + X.pow(3) * Y.pow(2)).unsqueeze(1);
  auto lap = ((1 - pi * pi) * torch::sin(pi * X) * torch::exp(Y) + 6 * X * Y.pow(2) + 2 * X.pow(3)).detach();
  auto u_xy = (pi * torch::cos(pi * X) * torch::exp(Y) + 6 * X.pow(2) * Y).detach();

  AutogradContext ctx(x, u);
  auto eval = [&](const std::string& text) { return Expression::parse(text, plane()).evaluate(ctx); };
  auto max_error = [](const torch::Tensor& a, const torch::Tensor& b) { return (a - b).abs().max().item<double>(); };
  CHECK(max_error(eval("u_xx + u_yy"), lap) < 1e-10);
  CHECK(max_error(eval("laplace(u)"), lap) < 1e-10);
  CHECK(max_error(eval("u_yx"), u_xy) < 1e-10);
  CHECK(max_error(eval("-laplace(u) + nu*u"), -lap + 0.01 * u.squeeze(1).detach()) < 1e-10);
  // Negative control: a wrong sign is caught.
  CHECK(max_error(eval("u_xx - u_yy"), lap) > 1e-3);
  // The residual stays on the graph, as a loss needs.
  CHECK(eval("laplace(u)").requires_grad());
}
