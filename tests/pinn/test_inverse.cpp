// Inverse problems: unknown coefficients trained with the network (`unknowns:`) and observations of the outputs
// (`type: data`), from a table file or sampled from the exact solution.
#include "core/trainer.h"
#include "pinn/expression.h"
#include "pinn/problem.h"
#include "pinn/solver.h"

#include "tests/pinn/helpers.h"
#include "tests/scratch.h"

#include <catch2/catch.hpp>

#include <cmath>
#include <filesystem>
#include <fstream>

using namespace physis;
using physis::test::problem_error;
using physis::test::problem_from;
using physis::test::runtime64;

namespace {

// x and its powers as the only "network": enough to evaluate expressions without derivatives.
class InputsOnly : public pinn::EvalContext {
 public:
  explicit InputsOnly(torch::Tensor x) : x_(std::move(x)) {}
  torch::Tensor input(int64_t i) override { return x_.select(1, i); }
  torch::Tensor output(int64_t) override { return x_.select(1, 0).square(); }
  torch::Tensor derivative(int64_t, const std::vector<int64_t>&) override { return 2 * x_.select(1, 0); }
  torch::Tensor extra(const std::string&) override { return torch::Tensor(); }

 private:
  torch::Tensor x_;
};

// -u'' = k pi^2 sin(pi x) on (0, 1), u = 0 at both ends (hard): u = k sin(pi x). The data are samples of
// `truth` sin(pi x), so the coefficient that fits them is `truth`.
std::string poisson_inverse(double truth, const std::string& unknown = "{initial: 1.0, positive: true, reference: 2}") {
  return "geometry: {interval: {min: 0, max: 1}}\n"
         "unknowns: {k: " + unknown + "}\n"
         "equations: [\"u_xx + k*pi^2*sin(pi*x)\"]\n"
         "conditions:\n"
         "  - {type: dirichlet, value: 0, hard: true}\n"
         "  - {type: data, from: exact, points: 30, seed: 4}\n"
         "network: {hidden: [16, 16], activation: tanh}\n"
         "training:\n"
         "  phases: [{optimizer: lbfgs, steps: 300}]\n"
         "  interior_points: 128\n"
         "  dtype: float64\n"
         "reference: {exact: {u: \"" + std::to_string(truth) + "*sin(pi*x)\"}}\n";
}

struct Trained {
  double k;
  Metrics metrics;
};

Trained train(const pinn::Problem& problem, const std::filesystem::path& folder) {
  pinn::Solver solver(problem, runtime64());
  auto options = problem.trainer;
  options.progress("none").output_dir(folder.string());
  Trainer trainer(solver.network().ptr(), [&](int64_t s) { return solver.loss(s); }, options);
  trainer.set_evaluator([&] { return solver.evaluate(); });
  auto result = trainer.run();
  return {problem.symbols.unknowns.at("k").value().item<double>(), result.metrics};
}

double metric(const Metrics& metrics, const std::string& name) {
  for (const auto& [n, v] : metrics)
    if (n == name) return v;
  FAIL("no metric " << name);
  return 0;
}

std::filesystem::path scratch(const std::string& name) {
  auto dir = physis::test::scratch(name);
  std::filesystem::create_directories(dir);
  return dir;
}

}  // namespace

TEST_CASE("an unknown is a trainable scalar in expressions: never folded, differentiable", "[inverse]") {
  auto raw = torch::scalar_tensor(std::log(3.0), torch::kFloat64).requires_grad_(true);
  pinn::SymbolTable symbols;
  symbols.inputs = {"x"};
  symbols.outputs = {"u"};
  symbols.parameters = {{"a", 2.0}};
  symbols.unknowns = {{"k", pinn::Unknown{raw, /*positive=*/true}}};
  auto e = pinn::Expression::parse("k^2*u + a*k", symbols);
  REQUIRE_FALSE(e.is_constant());
  REQUIRE(pinn::Expression::parse("2*k", symbols).unknowns() == std::vector<std::string>{"k"});
  REQUIRE(pinn::Expression::parse("a*x", symbols).unknowns().empty());
  InputsOnly ctx(torch::tensor({0.5, 2.0}, torch::kFloat64).reshape({2, 1}));
  auto r = e.evaluate(ctx);  // 9 x^2 + 6
  REQUIRE(r[0].item<double>() == Approx(9 * 0.25 + 6).epsilon(1e-12));
  REQUIRE(r[1].item<double>() == Approx(9 * 4 + 6).epsilon(1e-12));
  r.sum().backward();  // d/draw = k d/dk, d/dk sum = 2k sum(x^2) + 2 a
  REQUIRE(raw.grad().item<double>() == Approx(3.0 * (2 * 3.0 * (0.25 + 4) + 2 * 2.0)).epsilon(1e-12));
  // Fixed data cannot name one.
  REQUIRE_THROWS_WITH(pinn::evaluate_on_points(pinn::Expression::parse("k*x", symbols),
                                               torch::zeros({3, 1}, torch::kFloat64)),
                      Catch::Contains("unknown 'k'"));
  // Names stay distinct across categories.
  symbols.parameters["k"] = 1.0;
  REQUIRE_THROWS_WITH(pinn::Expression::parse("x", symbols), Catch::Contains("'k' is declared twice"));
}

TEST_CASE("an inverse Poisson problem finds its coefficient from data, and the data decides it", "[inverse]") {
  const auto folder = scratch("poisson");
  auto problem = problem_from(poisson_inverse(2.0));
  REQUIRE(problem.unknowns.at("k").positive);
  const auto found = train(problem, folder);
  INFO("k = " << found.k);
  REQUIRE(found.k == Approx(2.0).epsilon(1e-3));
  REQUIRE(metric(found.metrics, "k") == Approx(found.k));
  REQUIRE(metric(found.metrics, "k_relerr") == Approx(std::abs(found.k - 2.0) / 2.0).margin(1e-12));
  REQUIRE(metric(found.metrics, "l2re_u") < 1e-2);

  // Negative control: the same problem with other data finds another coefficient.
  const auto other = train(problem_from(poisson_inverse(3.0, "1.0")), scratch("poisson3"));
  INFO("k = " << other.k);
  REQUIRE(other.k == Approx(3.0).epsilon(1e-3));

  // A fresh solver starts the unknown from its initial value; resuming reads the trained one from the checkpoint.
  pinn::Solver fresh(problem, runtime64());
  REQUIRE(problem.symbols.unknowns.at("k").value().item<double>() == Approx(1.0));
  auto options = problem.trainer;
  options.progress("none").output_dir(folder.string());
  Trainer trainer(fresh.network().ptr(), [&](int64_t s) { return fresh.loss(s); }, options);
  REQUIRE(trainer.resume());
  REQUIRE(problem.symbols.unknowns.at("k").value().item<double>() == Approx(found.k).epsilon(1e-12));
}

TEST_CASE("a data condition fits the outputs it names at the file's points, and only there", "[inverse]") {
  const auto folder = scratch("table");
  {
    std::ofstream csv(folder / "obs.csv");
    csv << "# u = x y on four points, v unobserved\nx,y,u\n0.1,0.2,0.02\n0.5,0.5,0.25\n0.9,0.3,0.27\n0.4,0.8,0.32\n";
  }
  const std::string head = "geometry: {rectangle: {min: [0, 0], max: [1, 1]}}\noutputs: [u, v]\n"
                           "equations: [\"laplace(u)\", \"laplace(v)\"]\nconditions:\n";
  auto problem = pinn::Problem::from_section(config::Section::load_string(
      head + "  - {type: data, file: " + (folder / "obs.csv").string() + ", outputs: [u], name: observed}\n",
      (folder / "test.yaml").string()));
  const auto& c = problem.conditions.front();
  REQUIRE(c.kind == pinn::ConditionKind::data);
  REQUIRE(c.points == 4);
  REQUIRE(c.data_outputs == std::vector<int64_t>{0});
  pinn::Solver solver(problem, runtime64());
  auto impose = [&](double shift, double v) {
    physis::test::impose(solver, [shift, v](const torch::Tensor& x) {
      return torch::stack({x.select(1, 0) * x.select(1, 1) + shift, torch::full({x.size(0)}, v, x.options())}, 1);
    });
  };
  // The exact u (and any v): no misfit. Another u: the mean squared misfit over the four points.
  impose(0.0, 5.0);
  REQUIRE(solver.loss(0).back().second.item<double>() == Approx(0).margin(1e-24));
  impose(0.1, 0.0);
  REQUIRE(solver.loss(0).back().second.item<double>() == Approx(0.01).epsilon(1e-12));
  REQUIRE(solver.loss(0).back().first == "observed");

  // A subset of rows, and noise relative to the data's spread: deterministic for a seed.
  auto subset = [&](const std::string& extra) {
    return pinn::Problem::from_section(config::Section::load_string(
        head + "  - {type: data, file: " + (folder / "obs.csv").string() + ", outputs: [u], " + extra + "}\n",
        (folder / "test.yaml").string())).conditions.front();
  };
  const auto two = subset("points: 2, seed: 1");
  REQUIRE(two.points == 2);
  REQUIRE(torch::equal(two.data, subset("points: 2, seed: 1").data));
  const auto noisy = subset("noise: 0.1, seed: 1");
  const auto clean = subset("seed: 1");
  const double change = (noisy.data - clean.data).abs().max().item<double>();
  REQUIRE(change > 1e-4);
  REQUIRE(change < 0.1);  // 0.1 of a spread of about 0.1, a few sigma at most
}

TEST_CASE("a built-in PDE's parameter can be an unknown", "[inverse]") {
  auto p = problem_from("geometry: {interval: {min: -1, max: 1}}\ntime: [0, 1]\nunknowns: {nu: 0.05}\n"
                        "pde: {name: burgers}\nconditions:\n  - {type: initial, value: \"-sin(pi*x)\"}\n");
  REQUIRE_FALSE(p.symbols.parameters.count("nu"));
  REQUIRE(p.equations.front().unknowns() == std::vector<std::string>{"nu"});
  REQUIRE_THAT(problem_error("geometry: {interval: {min: -1, max: 1}}\ntime: [0, 1]\nunknowns: {nu: 0.05}\n"
                             "pde: {name: burgers, nu: 0.01}\n"),
               Catch::StartsWith("test.yaml:4:") && Catch::Contains("declared under `unknowns:`"));
}

TEST_CASE("network.output_scale and output_shift set the network's output scaling per output", "[inverse]") {
  const std::string head = "geometry: {interval: {min: 0, max: 3}}\ninputs: [t]\noutputs: [x, y, z]\n"
                           "equations: [\"x_t\", \"y_t\", \"z_t\"]\n";
  auto p = problem_from(head + "network: {hidden: [8], output_scale: {x: 10, z: 20}, output_shift: {z: 25}}\n");
  REQUIRE(p.network.output_scale == std::vector<double>{10, 1, 20});
  REQUIRE(p.network.output_shift == std::vector<double>{0, 0, 25});
  pinn::Solver solver(p, runtime64());
  auto t = torch::rand({5, 1}, torch::kFloat64);
  auto raw = solver.network()->mlp->forward((t - 1.5) / 1.5);
  auto expected = raw * torch::tensor({10.0, 1.0, 20.0}, torch::kFloat64) + torch::tensor({0.0, 0.0, 25.0}, torch::kFloat64);
  REQUIRE(torch::allclose(solver.network()->forward(t), expected, 1e-12, 1e-12));
  REQUIRE(problem_from(head).network.output_scale.empty());
  REQUIRE_THAT(problem_error(head + "network: {output_scale: {w: 2}}\n"),
               Catch::StartsWith("test.yaml:5:") && Catch::Contains("unknown output 'w'"));
  REQUIRE_THAT(problem_error(head + "network: {output_scale: {x: 0}}\n"),
               Catch::StartsWith("test.yaml:5:") && Catch::Contains("not 0"));

  // `auto`: half the observed outputs' range and their midrange over the data, 1 and 0 for the unobserved z.
  const std::string observed = head + "reference: {exact: {x: \"20*sin(t) + 25\", y: \"-2*t\"}}\n"
                               "conditions:\n  - {type: data, from: exact, points: 40, outputs: [x, y], seed: 3}\n";
  auto a = problem_from(observed + "network: {output_scale: auto}\n");
  const auto data = a.conditions.front().data;
  for (int64_t k = 0; k < 2; ++k) {
    const double low = data.select(1, k).min().item<double>(), high = data.select(1, k).max().item<double>();
    REQUIRE(a.network.output_scale[k] == Approx((high - low) / 2).epsilon(1e-12));
    REQUIRE(a.network.output_shift[k] == Approx((high + low) / 2).epsilon(1e-12));
  }
  REQUIRE(a.network.output_scale[0] > 5);  // 20 sin(t) over [0, 3]: not the default 1
  REQUIRE(a.network.output_scale[2] == 1);
  REQUIRE(a.network.output_shift[2] == 0);
  REQUIRE_THAT(problem_error(head + "network: {output_scale: auto}\n"),
               Catch::StartsWith("test.yaml:5:") && Catch::Contains("has none"));
  REQUIRE_THAT(problem_error(observed + "network: {output_scale: auto, output_shift: {x: 1}}\n"),
               Catch::StartsWith("test.yaml:8:") && Catch::Contains("sets the shifts too"));
  REQUIRE_THAT(problem_error(observed + "network: {output_scale: big}\n"),
               Catch::StartsWith("test.yaml:8:") && Catch::Contains("or `auto`"));
}

TEST_CASE("inverse-problem mistakes name the file and line", "[inverse]") {
  const std::string geometry = "geometry: {interval: {min: 0, max: 1}}\n";
  const std::string pde = "equations: [\"u_xx + k\"]\n";
  REQUIRE_THAT(problem_error(geometry + "unknowns: {k: 1}\nparameters: {k: 2}\n" + pde),
               Catch::StartsWith("test.yaml:3:") && Catch::Contains("also declared under `unknowns:`"));
  REQUIRE_THAT(problem_error(geometry + "unknowns: {x: 1}\n" + pde),
               Catch::StartsWith("test.yaml:2:") && Catch::Contains("names an input"));
  REQUIRE_THAT(problem_error(geometry + "unknowns: {u: 1}\n" + pde),
               Catch::StartsWith("test.yaml:2:") && Catch::Contains("already names an output"));
  REQUIRE_THAT(problem_error(geometry + "unknowns: {f: 1}\nhelpers: {f: \"x\"}\n" + pde),
               Catch::StartsWith("test.yaml:2:") && Catch::Contains("already names a helper"));
  REQUIRE_THAT(problem_error(geometry + "unknowns: {k: {initial: -1, positive: true}}\n" + pde),
               Catch::StartsWith("test.yaml:2:") && Catch::Contains("positive initial value"));
  REQUIRE_THAT(problem_error(geometry + "unknowns: {k: 1}\n" + pde +
                             "conditions:\n  - {type: dirichlet, value: \"k*x\", hard: true}\n"),
               Catch::StartsWith("test.yaml:5:") && Catch::Contains("cannot name the unknown 'k'") &&
                   Catch::Contains("make the condition soft"));
  REQUIRE(problem_error(geometry + "unknowns: {k: 1}\n" + pde + "conditions:\n  - {type: dirichlet, value: \"k*x\"}\n") ==
          "no error");
  REQUIRE_THAT(problem_error(geometry + "unknowns: {k: 1}\n" + pde + "reference: {exact: {u: \"k*x\"}}\n"),
               Catch::StartsWith("test.yaml:4:") && Catch::Contains("an exact solution is fixed data"));
  REQUIRE_THAT(problem_error(geometry + "unknowns: {k: 1}\n" + pde + "conditions:\n  - {type: data, file: nowhere.csv}\n"),
               Catch::StartsWith("test.yaml:5:") && Catch::Contains("nowhere.csv") && Catch::Contains("does not exist"));
  REQUIRE_THAT(problem_error(geometry + "unknowns: {k: 1}\n" + pde + "conditions:\n  - {type: data, from: exact, points: 9}\n"),
               Catch::StartsWith("test.yaml:5:") && Catch::Contains("needs reference.exact"));
  REQUIRE_THAT(problem_error(geometry + "unknowns: {k: 1}\n" + pde + "conditions:\n  - {type: data, from: exact}\n"),
               Catch::StartsWith("test.yaml:5:") && Catch::Contains("say how many"));
  const std::string plain = "equations: [\"u_xx\"]\n";
  REQUIRE_THAT(problem_error(geometry + plain + "conditions:\n  - {type: data, from: exact, points: 9, outputs: [w]}\n"),
               Catch::StartsWith("test.yaml:4:") && Catch::Contains("unknown output 'w'"));
  REQUIRE_THAT(problem_error(geometry + plain + "conditions:\n  - {type: data, from: exact, points: 9, hard: true}\n"),
               Catch::StartsWith("test.yaml:4:") && Catch::Contains("unknown key") && Catch::Contains("hard"));
}
