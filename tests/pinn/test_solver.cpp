// The PINN solver from problem files: each condition type, hard constraints, a small accurate run, a negative
// control, and problem-file mistakes reported with file and line.
#include "core/config.h"
#include "core/trainer.h"
#include "pinn/plots.h"
#include "pinn/problem.h"
#include "pinn/solver.h"

#include "tests/pinn/helpers.h"
#include "tests/scratch.h"

#include <catch2/catch.hpp>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <numbers>
#include <regex>

using namespace physis;
using physis::config::ConfigError;
using physis::config::Section;

namespace {

using physis::test::impose;
using physis::test::problem_error;
using physis::test::problem_from;
using physis::test::runtime64;
using physis::test::term;

// Zero weights and a last bias of 1: the network's raw output N is 1 everywhere (the output is g + phi N).
void raw_output_one(pinn::Solver& solver) {
  torch::NoGradGuard no_grad;
  auto parameters = solver.network()->parameters();
  for (auto& w : parameters) w.zero_();
  parameters.back().fill_(1.0);
}

// A unit square (pieces `outer`) minus a disk of radius 0.2 at its centre (piece `hole`), with a Poisson equation;
// the conditions follow.
const std::string square_with_hole = R"yaml(
geometry:
  difference:
    - rectangle: {min: [0, 0], max: [1, 1], boundary: outer}
    - disk: {center: [0.5, 0.5], radius: 0.2, boundary: hole}
pde: {name: poisson, source: 1}
conditions:
)yaml";

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace

TEST_CASE("each condition type is zero for a function that satisfies it and not otherwise", "[solver]") {
  // u = sin(x) e^{-t} on x in [0, 2 pi], t in [0, 1] solves u_t = u_xx and every condition below.
  auto p = problem_from(R"yaml(
geometry: {interval: {min: 0, max: 6.283185307179586}}
time: [0, 1]
equations: ["u_t - u_xx"]
conditions:
  - {type: dirichlet, on: x_min, value: 0, name: left}
  - {type: neumann, on: x_max, value: "exp(-t)", name: flux}
  - {type: robin, on: x_max, alpha: 2, beta: 1, value: "exp(-t)", name: robin}
  - {type: initial, value: "sin(x)", name: init}
  - {type: initial_rate, value: "-sin(x)", name: rate}
  - {type: point, at: [[1.0, 0.5]], value: "sin(1)*exp(-0.5)", name: gauge}
  - {type: periodic, axis: x, match: [u, u_x], name: wrap}
  - {type: residual, on: x_min, expression: "u_x - exp(-t)", name: slope}
training: {phases: [{steps: 1}], interior_points: 64, boundary_points: 32, initial_points: 32}
)yaml");
  pinn::Solver solver(p, runtime64());
  auto exact = [](const torch::Tensor& x) {
    return (torch::sin(x.select(1, 0)) * torch::exp(-x.select(1, 1))).unsqueeze(1);
  };
  impose(solver, exact);
  auto terms = solver.loss(0);
  for (const auto* name : {"eq0", "left", "flux", "robin", "init", "rate", "gauge", "wrap", "slope"}) {
    INFO(name);
    REQUIRE(term(terms, name) < 1e-20);
  }

  // A function that breaks the conditions: each term must notice (cos is periodic, so `wrap` still holds).
  impose(solver, [](const torch::Tensor& x) { return (torch::cos(x.select(1, 0)) + x.select(1, 1)).unsqueeze(1); });
  terms = solver.loss(0);
  for (const auto* name : {"eq0", "left", "flux", "robin", "init", "rate", "gauge", "slope"}) {
    INFO(name);
    REQUIRE(term(terms, name) > 1e-3);
  }
}

TEST_CASE("a flux condition integrates over cross-sections, around holes and over time", "[solver]") {
  // u = x y^2 on the unit square minus a disk of radius 0.2 at (0.5, 0.5). Through x = c the flux of u is c/3 where
  // the section misses the hole; through x = 0.5 it is 0.5 (0.3^3 + 1 - 0.7^3) / 3 (the hole spans 0.3 < y < 0.7).
  // Through y = c (missing the hole) the flux of u_y = 2 x y is c.
  auto p = problem_from(square_with_hole + R"yaml(
  - {type: dirichlet, value: 0}
  - {type: flux, across: x, expression: "u", value: "x/3", range: [0, 0.25], planes: 8, points: 512, name: left}
  - {type: flux, across: x, expression: "u", value: "0.5*(0.3^3 + 1 - 0.7^3)/3", range: [0.5, 0.5], planes: 3,
     points: 2000, name: middle}
  - {type: flux, across: x, expression: "u", value: "0.5/3", range: [0.5, 0.5], name: hole_ignored}
  - {type: flux, across: y, expression: "u_y", value: "y", range: [0, 0.25], name: slope}
  - {type: flux, across: y, expression: "u_y", value: "0.5", range: [0, 0.25], name: wrong}
training: {interior_points: 16, boundary_points: 16}
)yaml");
  pinn::Solver solver(p, runtime64());
  impose(solver, [](const torch::Tensor& x) { return (x.select(1, 0) * x.select(1, 1).square()).unsqueeze(1); });
  auto terms = solver.loss(0);
  REQUIRE(term(terms, "left") < 1e-7);
  REQUIRE(term(terms, "middle") < 1e-7);
  // The hole's share of the flux, int over 0.3 < y < 0.7 of 0.5 y^2, squared.
  REQUIRE(term(terms, "hole_ignored") == Approx(std::pow(0.5 * (std::pow(0.7, 3) - std::pow(0.3, 3)) / 3, 2)).epsilon(1e-2));
  REQUIRE(term(terms, "slope") < 1e-7);
  REQUIRE(term(terms, "wrong") > 0.1);  // (c - 0.5)^2 for c in [0, 0.25]

  // Transient: u = t x on the unit square, through y = c the flux is t/2 whatever c.
  auto heat = problem_from(R"yaml(
geometry: {rectangle: {min: [0, 0], max: [1, 1]}}
time: [0, 2]
pde: {name: heat, alpha: 1}
conditions:
  - {type: dirichlet, value: 0}
  - {type: initial, value: 0}
  - {type: flux, across: y, expression: u, value: "t/2", name: right}
  - {type: flux, across: y, expression: u, value: "0.5", name: wrong}
training: {interior_points: 16, boundary_points: 16, initial_points: 16}
)yaml");
  pinn::Solver transient(heat, runtime64());
  impose(transient, [](const torch::Tensor& x) { return (x.select(1, 2) * x.select(1, 0)).unsqueeze(1); });
  terms = transient.loss(0);
  REQUIRE(term(terms, "right") < 1e-7);  // stratified quadrature of a linear integrand: error O(points^-1.5)
  REQUIRE(term(terms, "wrong") > 1e-2);  // the times differ from 1 (mean square of (t - 1)/2 is 1/12)

  // The term trains the network: it has a gradient.
  pinn::Solver fresh(heat, runtime64());
  auto net = fresh.network();
  terms = fresh.loss(0);
  net->zero_grad();
  for (const auto& [name, value] : terms)
    if (name == "wrong") value.backward();
  double norm = 0;
  for (const auto& q : net->parameters())
    if (q.grad().defined()) norm += q.grad().square().sum().item<double>();
  REQUIRE(norm > 0);
  REQUIRE(std::isfinite(norm));

  // Mistakes point at the key.
  const std::string head = "geometry: {rectangle: {min: [0, 0], max: [1, 1]}}\ntime: [0, 1]\npde: {name: heat}\n"
                           "conditions:\n";
  REQUIRE_THAT(problem_error(head + "  - {type: flux, across: t, expression: u, value: 1}\n"),
               Catch::StartsWith("test.yaml:5:") && Catch::Contains("not a spatial input") && Catch::Contains("x, y"));
  REQUIRE_THAT(problem_error(head + "  - {type: flux, across: x, expression: u, value: 1, range: [0.5, 2]}\n"),
               Catch::StartsWith("test.yaml:5:") && Catch::Contains("within the domain's extent"));
  REQUIRE_THAT(problem_error(head + "  - {type: flux, across: x, expression: u, value: 1, planes: 0}\n"),
               Catch::StartsWith("test.yaml:5:") && Catch::Contains("planes must be positive"));
  REQUIRE_THAT(problem_error(head + "  - {type: flux, across: x, value: 1}\n"), Catch::Contains("expression"));
  REQUIRE_THAT(problem_error("geometry: {interval: {min: 0, max: 1}}\npde: {name: poisson}\nconditions:\n"
                             "  - {type: flux, across: x, expression: u, value: 1}\n"),
               Catch::StartsWith("test.yaml:4:") && Catch::Contains("two spatial dimensions"));
}

TEST_CASE("hard Dirichlet and initial conditions hold exactly on sampled points", "[solver]") {
  auto p = problem_from(R"yaml(
geometry:
  difference:
    - rectangle: {min: [0, 0], max: [1, 1]}
    - disk: {center: [0.5, 0.5], radius: 0.2}
pde: {name: poisson, source: 1}
conditions:
  - {type: dirichlet, value: "x*y + 1", hard: true}
training: {phases: [{steps: 1}], interior_points: 64, boundary_points: 256}
)yaml");
  pinn::Solver solver(p, runtime64());
  geometry::Sampler sampler(geometry::SamplerOptions().seed(5), torch::kFloat64);
  auto b = p.domain->sample_boundary(400, sampler);
  auto u = solver.network()->forward(b.points).select(1, 0);
  auto g = b.points.select(1, 0) * b.points.select(1, 1) + 1;
  REQUIRE((u - g).abs().max().item<double>() < 1e-6);
  // Away from the boundary the network is free.
  auto inner = p.domain->sample_interior(100, sampler);
  auto far = p.domain->distance(inner) > 0.05;
  auto ui = solver.network()->forward(inner).select(1, 0);
  auto gi = inner.select(1, 0) * inner.select(1, 1) + 1;
  REQUIRE((ui - gi).index({far}).abs().max().item<double>() > 1e-4);
  // Forward mode sees the same constrained output.
  auto jet = solver.network()->forward_jet(Jet::along_axes(b.points, {}, false));
  REQUIRE((jet.value.select(1, 0) - g).abs().max().item<double>() < 1e-6);

  auto q = problem_from(R"yaml(
geometry: {interval: {min: -1, max: 1}}
time: [0, 1]
pde: {name: burgers, nu: 0.01}
conditions:
  - {type: initial, value: "-sin(pi*x)", hard: true}
training: {phases: [{steps: 1}], interior_points: 64, initial_points: 64}
)yaml");
  pinn::Solver s2(q, runtime64());
  auto x0 = q.space_time->sample_initial(200, sampler);
  auto u0 = s2.network()->forward(x0).select(1, 0);
  REQUIRE((u0 + torch::sin(std::numbers::pi * x0.select(1, 0))).abs().max().item<double>() < 1e-6);
}

TEST_CASE("a small Poisson problem trains to 5e-2 relative L2 error", "[solver][slow]") {
  auto p = pinn::Problem::load(PHYSIS_SOURCE_DIR "/problems/poisson2d_sin.yaml");
  pinn::Solver solver(p, Runtime::create(RuntimeOptions().device("cpu").dtype("float32").seed(0)));
  REQUIRE(solver.uses_taylor());
  auto options = p.trainer;
  options.progress("none");
  Trainer trainer(solver.network().ptr(), [&](int64_t s) { return solver.loss(s); }, options);
  trainer.set_evaluator([&] { return solver.evaluate(); });
  auto result = trainer.run();
  REQUIRE(result.metrics.size() == 2);
  REQUIRE(result.metrics[0].first == "l2re_u");
  REQUIRE(result.metrics[0].second < 5e-2);
  REQUIRE(result.metrics[1].first == "maxerr_u");
  REQUIRE(result.metrics[1].second > 0);
  REQUIRE(result.metrics[1].second < 0.2);
}

TEST_CASE("third- and fourth-order problems take the same steps by forward and by reverse mode", "[solver]") {
  // The shipped KdV soliton (u_xxx) and Euler beam (u_xxxx, clamped hard end), shortened; `derivatives:` added.
  using Edits = std::vector<std::pair<std::string, std::string>>;
  const auto [file, edits] = GENERATE(
      std::pair{std::string("kdv_soliton.yaml"), Edits{{"steps: 10000", "steps: 4"},
                                                      {"interior_points: 4096", "interior_points: 200"},
                                                      {"boundary_points: 512", "boundary_points: 40"},
                                                      {"initial_points: 1024", "initial_points: 40"},
                                                      {"training:\n", "training:\n  derivatives: MODE\n"}}},
      std::pair{std::string("euler_beam.yaml"), Edits{{"steps: 5000", "steps: 4"},
                                                     {"\n    - \\{optimizer: lbfgs, steps: 1000\\}", ""},
                                                     {"training:\n", "training:\n  derivatives: MODE\n"}}});
  INFO(file);
  auto text = slurp(std::string(PHYSIS_SOURCE_DIR "/problems/") + file);
  for (const auto& [from, to] : edits) {
    const auto before = text;
    text = std::regex_replace(text, std::regex(from), to);
    REQUIRE(text != before);
  }
  auto train = [&](const std::string& mode) {
    auto p = pinn::Problem::from_section(
        Section::load_string(std::regex_replace(text, std::regex("MODE"), mode), file));
    pinn::Solver solver(p, runtime64(2));
    REQUIRE(solver.uses_taylor() == (mode == "taylor"));
    auto options = p.trainer;
    options.progress("none");
    Trainer trainer(solver.network().ptr(), [&](int64_t s) { return solver.loss(s); }, options);
    return trainer.run().loss;
  };
  const double forward = train("taylor"), reverse = train("autograd");
  REQUIRE(std::isfinite(forward));
  REQUIRE(forward == Approx(reverse).epsilon(1e-9));
}

TEST_CASE("negative control: a wrong-sign source does not converge to the exact solution", "[solver][slow]") {
  auto text = slurp(PHYSIS_SOURCE_DIR "/problems/poisson2d_sin.yaml");
  text = std::regex_replace(text, std::regex("source: \"2\\*pi"), "source: \"-2*pi");
  text = std::regex_replace(text, std::regex("steps: 1000"), "steps: 400");
  text = std::regex_replace(text, std::regex("steps: 300"), "steps: 100");
  auto p = pinn::Problem::from_section(Section::load_string(text, "negative.yaml"));
  pinn::Solver solver(p, Runtime::create(RuntimeOptions().device("cpu").dtype("float32").seed(0)));
  auto options = p.trainer;
  options.progress("none");
  Trainer trainer(solver.network().ptr(), [&](int64_t s) { return solver.loss(s); }, options);
  trainer.set_evaluator([&] { return solver.evaluate(); });
  auto result = trainer.run();
  REQUIRE(result.loss < 1e-1);                 // it does solve its own (wrong) problem...
  REQUIRE(result.metrics[0].second > 1.0);     // ...whose solution is -u: relative error near 2
}

TEST_CASE("problem-file mistakes name the file, line and column", "[solver]") {
  const std::string geometry = "geometry: {rectangle: {min: [0, 0], max: [1, 1]}}\n";
  REQUIRE_THAT(problem_error(geometry + "pde: {name: poison}\n"),
               Catch::StartsWith("test.yaml:2:") && Catch::Contains("unknown PDE 'poison'") && Catch::Contains("poisson"));
  REQUIRE_THAT(problem_error(geometry + "equations:\n  - \"-laplace(u) - nuu\"\n"),
               Catch::StartsWith("test.yaml:3:20") && Catch::Contains("unknown symbol 'nuu'"));
  REQUIRE_THAT(problem_error(geometry + "pde: {name: poisson}\nconditions:\n  - {type: dirichlet, on: lid, value: 0}\n"),
               Catch::StartsWith("test.yaml:4:") && Catch::Contains("no boundary piece named 'lid'") &&
                   Catch::Contains("x_min"));
  REQUIRE_THAT(problem_error(geometry + "pde: {name: poisson}\nconditions:\n  - {type: dirichlet, value: 0, wieght: 2}\n"),
               Catch::StartsWith("test.yaml:4:") && Catch::Contains("unknown key") && Catch::Contains("wieght"));
  REQUIRE_THAT(problem_error(geometry + "pde: {name: heat}\n"), Catch::Contains("add `time: [t0, t1]`"));
  REQUIRE_THAT(problem_error(geometry + "pde: {name: poisson}\ntraining: {phases: [{optimizer: adam, steps: ten}]}\n"),
               Catch::StartsWith("test.yaml:3:") && Catch::Contains("must be an integer"));
  // A built-in PDE's source term is checked where it is written (column 35: 'q' in the quoted source).
  REQUIRE_THAT(problem_error(geometry + "pde: {name: poisson, source: \"sin(q)\"}\n"),
               Catch::StartsWith("test.yaml:2:35") && Catch::Contains("unknown symbol 'q'"));
}

TEST_CASE("command-line overrides reach the problem, and their mistakes name them", "[solver]") {
  const auto file = physis::test::scratch("override.yaml");
  std::ofstream(file) << "geometry: {rectangle: {min: [0, 0], max: [1, 1]}}\n"
                         "pde: {name: poisson, source: \"1\"}\n"
                         "network: {hidden: [16, 16]}\n"
                         "training: {phases: [{optimizer: adam, steps: 10}]}\n";
  auto load = [&](const std::vector<std::string>& overrides) {
    return pinn::Problem::from_section(Section::load_file(file.string(), overrides));
  };
  auto p = load({"network.hidden=[8, 8, 8]", "training.phases[0].steps=20", "pde.source=2*x"});
  REQUIRE(p.network.hidden == std::vector<int64_t>{8, 8, 8});
  REQUIRE(p.trainer.total_steps() == 20);
  REQUIRE(p.file == file.string());  // relative paths still resolve from the file
  auto error = [&](const std::vector<std::string>& overrides) {
    try {
      load(overrides);
    } catch (const ConfigError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  REQUIRE_THAT(error({"pde.source=sin(q)"}),
               Catch::StartsWith("--set pde.source=sin(q):1:16") && Catch::Contains("unknown symbol 'q'"));
  REQUIRE_THAT(error({"network.hiden=[8]"}),
               Catch::StartsWith("--set network.hiden=[8]") && Catch::Contains("did you mean 'hidden'?"));
  REQUIRE_THAT(error({"training.phases[1].steps=5"}), Catch::Contains("has 1 item(s); no item [1]"));
}

TEST_CASE("function_jet carries third derivatives along general directions", "[solver]") {
  auto x = torch::rand({10, 2}, torch::kFloat64);
  // f = x^3 y + y^2, along v = (a, b): D^3_v f = 6 a^3 y + 3 * 6 x a^2 b... written out: sum v_i v_j v_k f_ijk with
  // f_xxx = 6 y, f_xxy = 6 x and the others 0: D^3_v f = 6 y a^3 + 3 * 6 x a^2 b.
  auto directions = torch::tensor({{1.0, 0.0}, {0.0, 1.0}, {0.7, -1.3}}, torch::kFloat64);
  auto jet = pinn::function_jet(
      [](const torch::Tensor& p) {
        return (p.select(1, 0).pow(3) * p.select(1, 1) + p.select(1, 1).square()).unsqueeze(1);
      },
      Jet::seed(x, directions, /*summed=*/false, /*order=*/3));
  auto px = x.select(1, 0), py = x.select(1, 1);
  REQUIRE(jet.order == 3);
  REQUIRE(torch::allclose(jet.third_at(0).select(1, 0), 6 * py));
  REQUIRE(jet.third_at(1).abs().max().item<double>() < 1e-12);
  const double a = 0.7, b = -1.3;
  REQUIRE(torch::allclose(jet.third_at(2).select(1, 0), 6 * py * a * a * a + 18 * px * a * a * b));
  REQUIRE(torch::allclose(jet.second_at(1).select(1, 0), torch::full_like(px, 2.0)));
  // Second-order jets carry none.
  REQUIRE_FALSE(pinn::function_jet([](const torch::Tensor& p) { return p; }, Jet::along_axes(x, {}, false))
                    .third.defined());
}

TEST_CASE("function_jet handles constant and linear functions and matches analytic derivatives", "[solver]") {
  auto x = torch::rand({10, 2}, torch::kFloat64);
  auto jx = Jet::along_axes(x, {}, false);
  auto constant = pinn::function_jet([](const torch::Tensor& p) { return torch::ones({p.size(0), 1}, p.options()); }, jx);
  REQUIRE(constant.first.abs().max().item<double>() == 0.0);
  REQUIRE(constant.second.abs().max().item<double>() == 0.0);
  auto f = pinn::function_jet([](const torch::Tensor& p) { return (p.select(1, 0).square() * p.select(1, 1)).unsqueeze(1); }, jx);
  auto px = x.select(1, 0), py = x.select(1, 1);
  REQUIRE(torch::allclose(f.first_at(0).select(1, 0), 2 * px * py));
  REQUIRE(torch::allclose(f.first_at(1).select(1, 0), px * px));
  REQUIRE(torch::allclose(f.second_at(0).select(1, 0), 2 * py));
  REQUIRE(f.second_at(1).abs().max().item<double>() < 1e-12);
}

TEST_CASE("residuals by forward mode (summed, per axis and mixed) equal those by reverse mode", "[solver]") {
  torch::manual_seed(8);
  pinn::SymbolTable symbols;
  symbols.inputs = {"x", "y", "t"};
  symbols.spatial_inputs = {"x", "y"};
  symbols.outputs = {"u", "v"};
  symbols.parameters = {{"k", 2.0}};
  FieldNetwork net(FieldNetworkOptions(MLPOptions({3, 16, 16, 2})));
  net->to(torch::kFloat64);
  auto x = torch::rand({32, 3}, torch::kFloat64);
  struct Case {
    std::vector<std::string> texts;
    bool summed;
  };
  for (const auto& c : std::vector<Case>{{{"-laplace(u) - k^2*u", "u_x*v + laplace(u)"}, true},
                                         {{"-laplace(u) + u_y", "laplace(v) - v"}, true},   // one per output
                                         {{"u_t - laplace(u)"}, false},                     // t is no Laplacian axis
                                         {{"u_xx + 2*u_yy"}, false},
                                         // mixed second derivatives, by polarization along e_i + e_j
                                         {{"u_xy - v_yt", "u_y*v_tx + laplace(v)"}, false},
                                         {{"u_yx + u_xy + u_tt"}, false},
                                         // third derivatives: along axes, and mixed by e_i + e_j and e_i - e_j
                                         {{"u_xxx + v_ttt - u_x*u_xy"}, false},
                                         {{"u_xxy - v_xyy", "u_yyx + v_yyy + laplace(u)", "u_ttx"}, false},
                                         {{"u_y*u_xy - u_x*u_yy - 0.1*(u_xxy + u_yyy)"}, false},
                                         // fourth derivatives, mixed by e_i + e_j, e_i - e_j and e_i + 2 e_j
                                         {{"u_xxxx + 2*u_xxyy + u_yyyy - v"}, false},
                                         {{"u_xxxy - v_xyyy + u_tttt", "u_xxy*v_ttxx", "u_ttx"}, false}}) {
    std::vector<pinn::Expression> exprs;
    for (const auto& t : c.texts) exprs.push_back(pinn::Expression::parse(t, symbols));
    pinn::ResidualEvaluator forward(exprs, pinn::DerivativeMode::taylor);
    pinn::ResidualEvaluator reverse(exprs, pinn::DerivativeMode::autograd);
    INFO(c.texts.front());
    REQUIRE(forward.uses_taylor());
    REQUIRE(forward.uses_summed_taylor() == c.summed);
    auto a = forward.evaluate(net, x);
    auto b = reverse.evaluate(net, x);
    for (std::size_t i = 0; i < a.size(); ++i) REQUIRE((a[i] - b[i]).abs().max().item<double>() < 1e-10);
  }
  // Beyond forward mode (three distinct inputs, fifth order): auto falls back to reverse mode, taylor refuses.
  for (const auto* text : {"u_xyt + u", "u_xxxxx - v"}) {
    INFO(text);
    std::vector<pinn::Expression> exprs{pinn::Expression::parse(text, symbols)};
    pinn::ResidualEvaluator automatic(exprs, pinn::DerivativeMode::automatic);
    REQUIRE_FALSE(automatic.uses_taylor());
    REQUIRE(automatic.evaluate(net, x).front().isfinite().all().item<bool>());
    REQUIRE_THROWS_WITH(pinn::ResidualEvaluator(exprs, pinn::DerivativeMode::taylor),
                        Catch::Contains("forward mode goes to the fourth order"));
  }
}

TEST_CASE("interior_weight weighs each residual point", "[solver]") {
  const std::string base =
      "geometry: {rectangle: {min: [0, 0], max: [1, 1]}}\npde: {name: poisson, source: 1}\n"
      "conditions: [{type: dirichlet, value: 0}]\ntraining: {interior_points: 256, ";
  auto pde_loss = [&](const std::string& weight) {
    auto rt = runtime64(4);
    auto problem = problem_from(base + weight + "}\n");
    pinn::Solver solver(problem, rt);
    impose(solver, [](const torch::Tensor& x) { return x.select(1, 0).square().unsqueeze(1); });  // -lap u = -2
    return term(solver.loss(0), "pde");
  };
  const double plain = pde_loss("seed: 0");
  REQUIRE(plain == Approx(9.0));  // residual -2 - 1 = -3 everywhere
  REQUIRE(pde_loss("interior_weight: \"1\"") == Approx(plain));
  // Weight 0 on the left half: about half of the points count.
  REQUIRE(pde_loss("interior_weight: \"x > 0.5\"") == Approx(4.5).epsilon(0.15));
  REQUIRE_THROWS_WITH(problem_from(base + "interior_weight: \"q\"}\n"), Catch::Contains("test.yaml:4:"));
}

TEST_CASE("a built-in PDE's residuals have names and weights; loss-term names are unique", "[solver]") {
  const std::string base = "geometry: {rectangle: {min: [0, 0], max: [1, 1]}}\n"
                           "pde: {name: navier_stokes, nu: 0.5";
  const std::string tail = "}\nconditions: [{type: dirichlet, output: u, value: 0}]\ntraining: {interior_points: 64}\n";
  auto terms = [&](const std::string& extra) {
    auto problem = problem_from(base + extra + tail);
    pinn::Solver solver(problem, runtime64(4));
    // u = x, v = -y, p = x^2: continuity holds; momentum_x = u u_x + p_x = 3x, momentum_y = v v_y = y.
    impose(solver, [](const torch::Tensor& x) {
      return torch::stack({x.select(1, 0), -x.select(1, 1), x.select(1, 0).square()}, 1);
    });
    return solver.loss(0);
  };
  const auto plain = terms("");
  REQUIRE(plain.size() == 4);
  CHECK(plain[0].first == "momentum_x");
  CHECK(plain[1].first == "momentum_y");
  CHECK(plain[2].first == "continuity");
  CHECK(term(plain, "momentum_x") > 1);  // mean of 9 x^2, about 3
  CHECK(term(plain, "continuity") < 1e-20);
  const auto weighted = terms(", weights: {momentum_x: 2.5, continuity: 10}");
  CHECK(term(weighted, "momentum_x") == Approx(2.5 * term(plain, "momentum_x")));
  CHECK(term(weighted, "momentum_y") == Approx(term(plain, "momentum_y")));
  REQUIRE_THAT(problem_error(base + ", weights: {mass: 2}" + tail),
               Catch::StartsWith("test.yaml:2:") && Catch::Contains("no residual named 'mass'") &&
                   Catch::Contains("momentum_x, momentum_y, continuity"));
  REQUIRE_THAT(problem_error(base + ", weights: {continuity: -1}" + tail), Catch::Contains(">= 0"));
  // A condition may not take an equation's name, nor another condition's.
  const std::string square = "geometry: {rectangle: {min: [0, 0], max: [1, 1]}}\npde: {name: poisson}\nconditions:\n";
  REQUIRE_THAT(problem_error(square + "  - {type: dirichlet, value: 0, name: pde}\n"),
               Catch::StartsWith("test.yaml:4:") && Catch::Contains("'pde' already names an equation"));
  REQUIRE_THAT(problem_error(square + "  - {type: dirichlet, on: x_min, value: 0, name: wall}\n"
                                      "  - {type: dirichlet, on: x_max, value: 0, name: wall}\n"),
               Catch::StartsWith("test.yaml:5:") && Catch::Contains("'wall' already names a condition"));
}

TEST_CASE("refine regions add interior points where the region meets the domain", "[solver]") {
  const std::string base =
      "geometry:\n  difference:\n    - rectangle: {min: [0, 0], max: [2, 1]}\n"
      "    - disk: {center: [0.5, 0.5], radius: 0.1}\n";
  const std::string rest = "pde: {name: poisson, source: 1}\nconditions: [{type: dirichlet, value: 0}]\n";
  auto problem = problem_from(base + rest +
                              "training:\n  interior_points: 300\n  refine:\n"
                              "    - {region: {disk: {center: [0.5, 0.5], radius: 0.2}}, points: 200}\n"
                              "    - {region: {rectangle: {min: [1.9, -1], max: [3, 2]}}, points: 50}\n");
  pinn::Solver solver(problem, runtime64(3));
  const auto& x = solver.interior();
  REQUIRE(x.size(0) == 550);
  // The first 300 fill the domain; the next 200 lie in the ring 0.1 < r < 0.2; the last 50 in x > 1.9 (and the box).
  auto r = (x.slice(0, 300, 500) - torch::tensor({0.5, 0.5}, x.options())).norm(2, 1);
  REQUIRE(r.min().item<double>() > 0.1);
  REQUIRE(r.max().item<double>() < 0.2);
  auto far = x.slice(0, 500);
  REQUIRE(far.select(1, 0).min().item<double>() > 1.9);
  REQUIRE(far.select(1, 0).max().item<double>() < 2.0);
  REQUIRE(far.select(1, 1).min().item<double>() > 0.0);
  REQUIRE(far.select(1, 1).max().item<double>() < 1.0);
  REQUIRE(((x.slice(0, 0, 300).select(1, 0) - 0.5).abs() < 0.2).sum().item<int64_t>() < 100);  // not refined there
  // Transient: the region is spatial, the points fill the time interval.
  auto transient = problem_from(
      "geometry: {rectangle: {min: [0, 0], max: [1, 1]}}\ntime: [0, 2]\npde: {name: heat, alpha: 1}\n"
      "conditions: [{type: dirichlet, value: 0}, {type: initial, value: 0}]\n"
      "training: {interior_points: 100, refine: [{region: {disk: {center: [0, 0], radius: 0.5}}, points: 80}]}\n");
  pinn::Solver heat(transient, runtime64(1));
  auto y = heat.interior().slice(0, 100);
  REQUIRE(y.size(0) == 80);
  REQUIRE(y.narrow(1, 0, 2).norm(2, 1).max().item<double>() < 0.5);
  REQUIRE(y.select(1, 2).max().item<double>() > 1.0);
  // Mistakes point at the item.
  REQUIRE_THROWS_WITH(problem_from(base + rest +
                                   "training:\n  refine:\n    - {region: {disk: {center: [5, 5], radius: 0.2}}, "
                                   "points: 10}\n"),
                      Catch::Contains("test.yaml:9:") && Catch::Contains("does not overlap"));
  REQUIRE_THROWS_WITH(problem_from(base + rest +
                                   "training:\n  refine:\n    - {region: {disk: {center: [0, 0], radius: 1}}}\n"),
                      Catch::Contains("test.yaml:9:") && Catch::Contains("points"));
  REQUIRE_THROWS_WITH(problem_from(base + rest +
                                   "training:\n  refine:\n    - {region: {ball: {center: [0, 0, 0], radius: 1}}, "
                                   "points: 5}\n"),
                      Catch::Contains("test.yaml:9:") && Catch::Contains("dimensions"));
}

TEST_CASE("network.input_box sets the box the inputs are scaled from", "[solver]") {
  const std::string base = "geometry: {rectangle: {min: [0, 0], max: [22, 4]}}\npde: {name: poisson, source: 1}\n"
                           "conditions: [{type: dirichlet, value: 0}]\n";
  auto scaled = [](const pinn::Problem& problem) {
    pinn::Solver solver(problem, runtime64());
    auto net = solver.network();
    return (torch::tensor({{2.0, 2.0}, {6.0, 6.0}}, torch::kFloat64) - net->input_shift) * net->input_scale;
  };
  // By default the domain's bounding box maps to [-1, 1]^2.
  auto plain = scaled(problem_from(base));
  REQUIRE(torch::allclose(plain, torch::tensor({{2.0 / 11 - 1, 0.0}, {6.0 / 11 - 1, 2.0}}, torch::kFloat64)));
  // A square box centred on (2, 2): (x - 2) / 4 on both axes.
  auto boxed = scaled(problem_from(base + "network: {hidden: [8], input_box: {min: [-2, -2], max: [6, 6]}}\n"));
  REQUIRE(torch::allclose(boxed, torch::tensor({{0.0, 0.0}, {1.0, 1.0}}, torch::kFloat64)));
  // Mistakes point at the key.
  REQUIRE_THAT(problem_error(base + "network: {input_box: {min: [0], max: [1, 1]}}\n"),
               Catch::StartsWith("test.yaml:4:") && Catch::Contains("one value per input") && Catch::Contains("x, y"));
  REQUIRE_THAT(problem_error(base + "network: {input_box: {min: [0, 1], max: [1, 1]}}\n"),
               Catch::StartsWith("test.yaml:4:") && Catch::Contains("'y' does not"));
  REQUIRE_THAT(problem_error(base + "network: {input_box: {min: [0, 0]}}\n"), Catch::Contains("max"));
  REQUIRE_THAT(problem_error("geometry: {rectangle: {min: [0, 0], max: [1, 1]}}\npde: {name: poisson, source: 1}\n"
                             "conditions: [{type: periodic, axis: x, hard: true}, {type: dirichlet, on: [y_min, y_max], "
                             "value: 0}]\nnetwork: {input_box: {min: [0, 0], max: [2, 2]}}\n"),
               Catch::StartsWith("test.yaml:4:") && Catch::Contains("period"));
}

TEST_CASE("a float64 solver drawing in float32 trains on the float32 solver's points", "[solver]") {
  auto problem = problem_from("geometry: {disk: {center: [0, 0], radius: 1}}\npde: {name: poisson, source: 1}\n"
                              "conditions: [{type: dirichlet, value: 0}]\ntraining: {interior_points: 64}\n");
  auto interior = [&](torch::Dtype run, std::optional<torch::Dtype> draw) {
    problem.sampling.draw_dtype = draw;
    auto rt = Runtime::create(RuntimeOptions().device("cpu").dtype(run == torch::kFloat32 ? "float32" : "float64"));
    return pinn::Solver(problem, rt).interior().clone();
  };
  auto single = interior(torch::kFloat32, std::nullopt);
  auto converted = interior(torch::kFloat64, torch::kFloat32);
  REQUIRE(converted.scalar_type() == torch::kFloat64);
  REQUIRE(torch::equal(converted, single.to(torch::kFloat64)));
  // Drawn in float64, the set is another one.
  REQUIRE_FALSE(torch::allclose(interior(torch::kFloat64, std::nullopt), converted, 0, 1e-3));
}

TEST_CASE("point counts from the command line replace the training section's, not a condition's own", "[solver]") {
  auto problem = problem_from(
      "geometry: {rectangle: {min: [0, 0], max: [1, 1]}}\ntime: [0, 1]\npde: {name: heat, alpha: 1}\n"
      "conditions:\n  - {type: dirichlet, value: 0}\n  - {type: dirichlet, on: x_min, value: 0, points: 77}\n"
      "  - {type: initial, value: 0}\ntraining: {interior_points: 300, boundary_points: 200, initial_points: 100}\n");
  REQUIRE(problem.conditions[0].points == 200);
  REQUIRE(problem.conditions[2].points == 100);
  problem.override_points(0, 50, 0);  // only the boundary count
  REQUIRE(problem.sampling.interior_points == 300);
  REQUIRE(problem.conditions[0].points == 50);
  REQUIRE(problem.conditions[1].points == 77);
  REQUIRE(problem.conditions[2].points == 100);
  problem.override_points(64, 0, 32);
  REQUIRE(problem.sampling.interior_points == 64);
  REQUIRE(problem.conditions[0].points == 50);
  REQUIRE(problem.conditions[2].points == 32);
  pinn::Solver solver(problem, runtime64(1));
  REQUIRE(solver.loss(0).size() == 4);  // the solver builds on the new counts: one PDE term, three conditions
}

TEST_CASE("boundary integrals: measures, normals and hard boundary data integrate exactly", "[solver]") {
  auto p = problem_from(square_with_hole + R"yaml(
  - {type: dirichlet, value: "x^2", hard: true}
training: {phases: [{steps: 1}], interior_points: 64, boundary_points: 64}
output:
  integrals:
    - {name: hole_length, on: hole, expression: "1", points: 4000, reference: 1.2566370614359172}
    - {name: area, expression: "x*n_x", points: 4000}
    - {name: outer_u, on: outer, expression: "u", points: 4000}
)yaml");
  pinn::Solver solver(p, runtime64());
  std::map<std::string, double> m;
  for (const auto& [name, value] : solver.evaluate()) m[name] = value;
  // The circumference 2 pi r; the divergence theorem (the hole's normals point into it, out of the domain);
  // u = x^2 exactly on the square's edges: 1/3 + 1/3 + 0 + 1.
  CHECK(m.at("hole_length") == Approx(2 * std::numbers::pi * 0.2).epsilon(5e-3));
  CHECK(m.at("hole_length_relerr") < 5e-3);
  CHECK(m.at("area") == Approx(1 - std::numbers::pi * 0.04).epsilon(5e-3));
  CHECK(m.at("outer_u") == Approx(5.0 / 3.0).epsilon(5e-3));

  const std::string head = "geometry: {rectangle: {min: [0, 0], max: [1, 1]}}\npde: {name: poisson}\noutput:\n";
  REQUIRE_THAT(problem_error(head + "  integrals: [{name: f, on: lid, expression: u}]\n"),
               Catch::StartsWith("test.yaml:4:") && Catch::Contains("no boundary piece named 'lid'"));
  REQUIRE_THAT(problem_error(head + "  integrals: [{name: f, expression: uu}]\n"),
               Catch::StartsWith("test.yaml:4:") && Catch::Contains("unknown symbol 'uu'"));
  REQUIRE_THAT(problem_error(head + "  integrals: [{name: f, expression: u}, {name: f, expression: u}]\n"),
               Catch::Contains("a second integral named 'f'"));
}

TEST_CASE("boundary integrals see the normal derivative of a hard output (one-sided at its kink)", "[solver]") {
  // u = g + phi N with g = 0 and the network's raw output N = 1: du/dn on the hole is -|grad phi| = -1 (n points
  // into the hole), so its integral is minus the circumference. On the boundary itself phi has a kink (its
  // gradient is 0 or of either sign there): the integral must take the one-sided value from inside the domain.
  for (const std::string conditions : {"  - {type: dirichlet, value: 0, hard: true}\n",
                                       "  - {type: dirichlet, on: hole, value: 0, hard: true}\n"
                                       "  - {type: dirichlet, on: outer, value: 0, hard: true}\n"}) {
    for (const char* dtype : {"float64", "float32"}) {
      INFO(conditions << dtype);
      auto p = problem_from(square_with_hole + conditions + R"yaml(
training: {phases: [{steps: 1}], interior_points: 64}
output:
  integrals:
    - {name: flux, on: hole, expression: "u_x*n_x + u_y*n_y", points: 4000}
)yaml");
      pinn::Solver solver(p, Runtime::create(RuntimeOptions().device("cpu").dtype(dtype)));
      raw_output_one(solver);
      std::map<std::string, double> m;
      for (const auto& [name, value] : solver.evaluate()) m[name] = value;
      CHECK(m.at("flux") == Approx(-2 * std::numbers::pi * 0.2).epsilon(1e-2));
    }
  }
}

TEST_CASE("soft conditions with derivatives see the normal derivative of a hard output", "[solver]") {
  // As above, u = phi with N = 1, now with soft conditions on the hole that differentiate u: a Neumann condition
  // (du/dn = -1 there, so its loss is 1) and a residual condition on the tangential derivative (0). On the
  // boundary itself the kink of phi would hide the normal derivative; the points sit a hair inside.
  for (const std::string hard : {"  - {type: dirichlet, value: 0, hard: true}\n",
                                 "  - {type: dirichlet, on: hole, value: 0, hard: true}\n"
                                 "  - {type: dirichlet, on: outer, value: 0, hard: true}\n"}) {
    for (const char* dtype : {"float64", "float32"}) {
      INFO(hard << dtype);
      auto p = problem_from(square_with_hole + hard + R"yaml(
  - {type: neumann, on: hole, value: 0, name: normal}
  - {type: residual, on: hole, expression: "u_x*n_y - u_y*n_x", name: tangential}
training: {phases: [{steps: 1}], interior_points: 64, boundary_points: 512}
)yaml");
      pinn::Solver solver(p, Runtime::create(RuntimeOptions().device("cpu").dtype(dtype)));
      raw_output_one(solver);
      auto terms = solver.loss(0);
      CHECK(term(terms, "normal") == Approx(1.0).epsilon(1e-3));
      CHECK(term(terms, "tangential") < 1e-6);
    }
  }
}

TEST_CASE("a hard transform that holds the exact solution with a constant network is found", "[solver]") {
  const std::string head =
      "geometry: {rectangle: {min: [0, 0], max: [1, 1]}}\n"
      "equations: [\"-laplace(u) - 2*pi^2*sin(pi*x)*sin(pi*y)\"]\n"
      "reference: {exact: {u: \"sin(pi*x)*sin(pi*y)\"}}\n";
  auto names_for = [&](const std::string& value) {
    auto p = pinn::Problem::from_section(Section::load_string(
        head + "conditions:\n  - {type: dirichlet, name: walls, value: \"" + value + "\", hard: true}\n", "t.yaml"));
    return pinn::hard_transforms_holding_exact(p, torch::rand({64, 2}, torch::kFloat64));
  };
  REQUIRE(names_for("sin(pi*x)*sin(pi*y)") == std::vector<std::string>{"walls"});  // the answer, written out
  REQUIRE(names_for("sin(pi*y)*sin(x*pi)") == std::vector<std::string>{"walls"});  // the same, written otherwise
  REQUIRE(names_for("0").empty());                                               // boundary data only

  // A clamped box with the product distance: phi^2 = x^2 (1 - x)^2 y^2 (1 - y)^2, so that manufactured solution
  // (times any constant) is held by N = constant; sin(pi x)^2 sin(pi y)^2 is not.
  auto clamped = [](const std::string& exact) {
    auto p = pinn::Problem::from_section(Section::load_string(
        "geometry: {rectangle: {min: [0, 0], max: [1, 1], distance: product}}\n"
        "outputs: [w]\nequations: [\"w_xxxx + 2*w_xxyy + w_yyyy\"]\n"
        "conditions:\n  - {type: dirichlet, name: edges, value: 0, hard: true, clamped: true}\n"
        "reference: {exact: {w: \"" + exact + "\"}}\n", "t.yaml"));
    return pinn::hard_transforms_holding_exact(p, torch::rand({64, 2}, torch::kFloat64));
  };
  REQUIRE(clamped("3*x^2*(1 - x)^2*y^2*(1 - y)^2") == std::vector<std::string>{"edges"});
  REQUIRE(clamped("sin(pi*x)^2*sin(pi*y)^2").empty());
  REQUIRE(clamped("x^2*(1 - x)^2*y^2*(1 - y)^2*exp(x)").empty());
}

TEST_CASE("a hard periodic condition makes the network periodic and adds no loss term", "[solver]") {
  // u_t = u_xx on a 2 pi-periodic x with a hard initial condition: u = sin(x) e^{-t}.
  const std::string head = R"yaml(
geometry: {interval: {min: 0, max: 6.283185307179586}}
time: [0, 1]
equations: ["u_t - u_xx"]
)yaml";
  auto p = problem_from(head + R"yaml(
conditions:
  - {type: periodic, axis: x, hard: true}
  - {type: initial, value: "sin(x)", hard: true}
training: {phases: [{optimizer: adam, steps: 300, lr: 0.01}], interior_points: 256}
reference: {exact: {u: "sin(x)*exp(-t)"}}
)yaml");
  pinn::Solver solver(p, runtime64(0));
  REQUIRE(solver.term_names() == std::vector<std::string>{"eq0"});
  auto t = torch::rand({50, 1}, torch::kFloat64);
  auto ends = [&](double x) {
    auto points = torch::cat({torch::full({50, 1}, x, torch::kFloat64), t}, 1).requires_grad_(true);
    auto u = solver.network()->forward(points);
    auto du = torch::autograd::grad({u.sum()}, {points}, {}, true, true)[0];
    auto d2u = torch::autograd::grad({du.select(1, 0).sum()}, {points}, {}, true)[0];
    return std::tuple{u.detach(), du.detach(), d2u.detach()};
  };
  auto [u0, du0, d2u0] = ends(0.0);
  auto [u1, du1, d2u1] = ends(2 * std::numbers::pi);
  REQUIRE((u0 - u1).abs().max().item<double>() < 1e-10);
  REQUIRE((du0 - du1).abs().max().item<double>() < 1e-10);
  REQUIRE((d2u0 - d2u1).abs().max().item<double>() < 1e-10);
  auto options = p.trainer;
  options.progress("none");
  Trainer trainer(solver.network().ptr(), [&](int64_t s) { return solver.loss(s); }, options);
  trainer.set_evaluator([&] { return solver.evaluate(); });
  auto result = trainer.run();
  REQUIRE(result.metrics.at(0).first == "l2re_u");
  REQUIRE(result.metrics.at(0).second < 5e-2);

  REQUIRE_THAT(problem_error(head + "conditions:\n  - {type: periodic, axis: x, hard: true, match: [u]}\n"),
               Catch::StartsWith("test.yaml:6:") && Catch::Contains("remove `match`"));
  REQUIRE_THAT(problem_error(head + "conditions:\n  - {type: periodic, axis: x, hard: true}\n"
                                    "  - {type: periodic, axis: x, hard: true}\n"),
               Catch::StartsWith("test.yaml:7:") && Catch::Contains("already has a hard periodic condition"));
  REQUIRE_THAT(problem_error(head + "conditions:\n  - {type: neumann, value: 0, hard: true}\n"),
               Catch::Contains("only dirichlet, initial and periodic conditions"));
}

TEST_CASE("a 2-D transient problem writes its fields over time and a plot of the last time", "[solver]") {
  auto p = problem_from(R"yaml(
geometry: {rectangle: {min: [0, 0], max: [1, 1]}}
time: [0, 0.5]
pde: {name: heat}
conditions:
  - {type: initial, value: "sin(pi*x)*sin(pi*y)", hard: true}
training: {phases: [{steps: 1}], interior_points: 64}
reference: {exact: {u: "sin(pi*x)*sin(pi*y)*exp(-2*pi^2*t)"}}
output: {grid: [9, 9], times: 3}
)yaml");
  pinn::Solver solver(p, runtime64());
  const auto dir = std::filesystem::temp_directory_path() / ("physis-test-final-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  solver.write_results(dir);
  REQUIRE(std::filesystem::exists(dir / "fields.pvd"));
  if (pinn::gnuplot_available()) {
    REQUIRE(std::filesystem::exists(dir / "fields_final_u.png"));
    REQUIRE_THAT(slurp((dir / "fields_final_u.gp").string()), Catch::Contains("t = 0.5: u"));
  }
  std::filesystem::remove_all(dir);
}
