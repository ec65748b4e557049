// Hard Dirichlet data given piece by piece (transfinite interpolation of the pieces' values over their distance
// functions): exact on every piece for an untrained network, by reverse and forward mode alike, on boxes and on
// CSG results (Poisson2d-C, a difference with a nested union, a 3-D box minus a ball), finite PDE residuals
// inside, and clear errors where the pieces do not cover the boundary or cannot be told apart (meshes).
#include "core/build_config.h"
#include "core/config.h"
#include "core/diff.h"
#include "geometry/adf.h"
#include "geometry/geometry.h"
#include "pinn/problem.h"
#include "pinn/residual.h"
#include "pinn/solver.h"

#include "tests/derivatives.h"
#include "tests/pinn/helpers.h"

#include <catch2/catch.hpp>

#include <cmath>
#include <functional>
#include <map>
#include <numbers>
#include <tuple>

using namespace physis;

namespace {

using physis::test::problem_error;
using physis::test::problem_from;
using physis::test::runtime64;

double max_abs(const torch::Tensor& t) { return t.abs().max().item<double>(); }

// The solver's untrained output u at `points` [N, 2] equals g's value there (to `value_tolerance`); returns the
// largest deviation of grad u from g's gradient. g(x) gives {value, d/dx, d/dy}.
template <class G>
double gradient_error_where_value_holds(pinn::Solver& solver, const torch::Tensor& points, G g,
                                        double value_tolerance) {
  auto x = points.clone().requires_grad_(true);
  Derivatives d(x, solver.network()->forward(x));
  auto [gv, gx, gy] = g(x.detach());
  REQUIRE(max_abs(d.value(0) - gv) < value_tolerance);
  return std::max(max_abs(d.d(0, 0) - gx), max_abs(d.d(0, 1) - gy));
}

// A clamped piece holds the gradient (error below `tolerance`); a plain one leaves it to the untrained network.
void require_gradient_held(bool clamped, double gradient_error, double tolerance) {
  if (clamped)
    REQUIRE(gradient_error < tolerance);
  else
    REQUIRE(gradient_error > 1e-3);
}

// The lid-driven cavity's walls: a lid on top, three no-slip walls, each a named piece.
const std::string cavity = R"yaml(
geometry:
  rectangle: {min: [0, 0], max: [1, 1], boundary: {y_max: top, x_min: left, x_max: right, y_min: bottom}}
)yaml";

// The expressions evaluated at `points` by forward mode (which must serve them) and by reverse mode: finite, not all
// near zero, and equal to `tolerance` relative to their size.
void require_forward_equals_reverse(FieldNetwork& net, const std::vector<pinn::Expression>& expressions,
                                    const torch::Tensor& points, double tolerance = 1e-8) {
  pinn::ResidualEvaluator forward(expressions, pinn::DerivativeMode::taylor);
  pinn::ResidualEvaluator reverse(expressions, pinn::DerivativeMode::autograd);
  REQUIRE(forward.uses_taylor());
  auto a = forward.evaluate(net, points), b = reverse.evaluate(net, points);
  for (std::size_t i = 0; i < a.size(); ++i) {
    REQUIRE(torch::isfinite(a[i]).all().item<bool>());
    REQUIRE(max_abs(b[i]) > 1e-3);
    REQUIRE(max_abs(a[i] - b[i]) < tolerance * (1 + max_abs(b[i])));
  }
}

// Third and fourth derivatives of u, along the axes and mixed. Compare them to 1e-7: next to a boundary the hard
// transform's fourth derivatives are in the hundreds, and polarization subtracts such directional derivatives
// (u_xxyy = (D^4_+ + D^4_- - 2 u_xxxx - 2 u_yyyy) / 12), so float64 keeps about 1e-8 of them.
constexpr double high_tolerance = 1e-7;
std::vector<pinn::Expression> high_derivatives(const pinn::Problem& p) {
  return {pinn::Expression::parse("u_xxy + u_yyy - u_x*u_xyy + u_xxx + 0.1*(u_xxxx + 2*u_xxyy + u_xyyy)", p.symbols)};
}

// Every piece's data holds to 1e-6 at sampled boundary points, by reverse and forward mode, for the untrained
// network of a solver; inside, the Laplacian residuals and a sum of third derivatives are finite and agree between
// the two modes.
using PieceData = std::function<torch::Tensor(const torch::Tensor&)>;  // [N, d] points -> [N] values

void require_exact_on_pieces(const pinn::Problem& p, const std::map<std::string, PieceData>& data) {
  pinn::Solver solver(p, runtime64(5));
  auto net = solver.network();
  geometry::Sampler sampler(geometry::SamplerOptions().seed(13), torch::kFloat64);
  auto b = p.domain->sample_boundary(2000, sampler);
  auto expected = torch::full({b.size()}, std::nan(""), torch::kFloat64);           // [N]
  for (const auto& [piece, value] : data) {
    INFO(piece);
    REQUIRE(b.mask(piece).sum().item<int64_t>() > 20);
    expected = torch::where(b.mask(piece), value(b.points), expected);
  }
  REQUIRE(torch::isfinite(expected).all().item<bool>());  // every sampled point is on a listed piece
  REQUIRE(max_abs(net->forward(b.points).select(1, 0) - expected) < 1e-6);
  auto jet = net->forward_jet(Jet::along_axes(b.points, {}, false));
  REQUIRE(max_abs(jet.value.select(1, 0) - expected) < 1e-6);

  auto inner = p.domain->sample_interior(300, sampler);
  require_forward_equals_reverse(net, p.equations, inner);
  require_forward_equals_reverse(net, high_derivatives(p), inner, high_tolerance);  // through the hard transform
  auto terms = solver.loss(0);
  REQUIRE(terms.size() == 1);  // the PDE residual only: hard conditions add no loss
  REQUIRE(std::isfinite(terms.front().second.item<double>()));
}

PieceData constant(double c) {
  return [c](const torch::Tensor& x) { return torch::full({x.size(0)}, c, x.options()); };
}
PieceData coordinate(int64_t i, double scale = 1.0) {
  return [i, scale](const torch::Tensor& x) { return scale * x.select(1, i); };
}

}  // namespace

TEST_CASE("piecewise hard Dirichlet data holds exactly on each piece, by reverse and forward mode", "[hard]") {
  // u: lid 1 on top, 0 on the walls in two conditions (one of them not constant: the transform must follow x).
  auto p = problem_from(cavity + R"yaml(
pde: {name: poisson, source: 1}
conditions:
  - {type: dirichlet, on: top, value: 1, hard: true}
  - {type: dirichlet, on: [left, right], value: 0, hard: true}
  - {type: dirichlet, on: bottom, value: "x*(1 - x)", hard: true}
training: {phases: [{steps: 1}], interior_points: 64, boundary_points: 64, derivatives: taylor}
)yaml");
  pinn::Solver solver(p, runtime64(7));
  auto net = solver.network();
  geometry::Sampler sampler(geometry::SamplerOptions().seed(11), torch::kFloat64);
  auto b = p.domain->sample_boundary(600, sampler);
  auto bx = b.points.select(1, 0);
  auto expected = torch::zeros({b.size()}, torch::kFloat64);
  expected.index_put_({b.mask("top")}, 1.0);
  expected = torch::where(b.mask("bottom"), bx * (1 - bx), expected);
  for (const auto* piece : {"top", "left", "right", "bottom"}) REQUIRE(b.mask(piece).any().item<bool>());

  auto u = net->forward(b.points).select(1, 0);
  REQUIRE(max_abs(u - expected) < 1e-6);
  auto jet = net->forward_jet(Jet::along_axes(b.points, {}, false));
  REQUIRE(max_abs(jet.value.select(1, 0) - expected) < 1e-6);

  // Inside, the untrained network is free (not the blend of the data), and the Laplacian residual is finite
  // and the same by forward and reverse mode.
  auto inner = p.domain->sample_interior(200, sampler);
  auto ix = inner.select(1, 0);
  auto phis = torch::stack({p.domain->piece_distance(inner, {"top"}), p.domain->piece_distance(inner, {"left", "right"}),
                            p.domain->piece_distance(inner, {"bottom"})}, 1);            // [200, 3]
  auto values = torch::stack({torch::ones_like(ix), torch::zeros_like(ix), ix * (1 - ix)}, 1);
  auto blend = geometry::transfinite_interpolation(phis, values, 1.0);
  REQUIRE(max_abs(net->forward(inner).select(1, 0) - blend) > 1e-3);
  require_forward_equals_reverse(net, p.equations, inner);
  require_forward_equals_reverse(net, high_derivatives(p), inner, high_tolerance);  // through the hard transform
  auto terms = solver.loss(0);
  for (const auto& [name, value] : terms) {
    INFO(name);
    REQUIRE(std::isfinite(value.item<double>()));
  }
}

TEST_CASE("hard piecewise velocity, hard whole-boundary velocity and a soft gauge work together", "[hard]") {
  auto p = problem_from(cavity + R"yaml(
pde: {name: navier_stokes, nu: 0.01, steady: true}
conditions:
  - {type: dirichlet, output: u, on: top, value: 1, hard: true}
  - {type: dirichlet, output: u, on: [left, right, bottom], value: 0, hard: true}
  - {type: dirichlet, output: v, value: 0, hard: true}
  - {type: point, output: p, at: [[0, 0]], value: 0, name: gauge}
training: {phases: [{steps: 1}], interior_points: 64, boundary_points: 64}
)yaml");
  pinn::Solver solver(p, runtime64(3));
  geometry::Sampler sampler(geometry::SamplerOptions().seed(12), torch::kFloat64);
  auto b = p.domain->sample_boundary(400, sampler);
  auto out = solver.network()->forward(b.points);                                    // [400, 3]
  auto lid = b.mask("top").to(torch::kFloat64);
  REQUIRE(max_abs(out.select(1, 0) - lid) < 1e-6);
  REQUIRE(max_abs(out.select(1, 1)) < 1e-6);
  REQUIRE(max_abs(out.select(1, 2)) > 1e-4);  // p is free
  auto terms = solver.loss(0);
  bool gauge = false;
  for (const auto& [name, value] : terms) {
    gauge = gauge || name == "gauge";
    REQUIRE(std::isfinite(value.item<double>()));
  }
  REQUIRE(gauge);
  REQUIRE(terms.size() == 4);  // three momentum/continuity residuals and the gauge; hard conditions add none
}

TEST_CASE("piecewise hard conditions hold each piece once and leave no piece without a condition", "[hard]") {
  const std::string poisson = "pde: {name: poisson}\nconditions:\n";
  auto uncovered = problem_error(cavity + poisson +
                            "  - {type: dirichlet, on: top, value: 1, hard: true}\n"
                            "  - {type: dirichlet, on: [left, right], value: 0, hard: true}\n");
  REQUIRE_THAT(uncovered, Catch::StartsWith("test.yaml:7:") && Catch::Contains("without any condition: bottom"));
  auto twice = problem_error(cavity + poisson +
                        "  - {type: dirichlet, on: [top, left], value: 1, hard: true}\n"
                        "  - {type: dirichlet, on: [left, right, bottom], value: 0, hard: true}\n");
  REQUIRE_THAT(twice, Catch::Contains("piece 'left' already has hard data"));
  auto whole_and_piece = problem_error(cavity + poisson +
                                  "  - {type: dirichlet, value: 1, hard: true}\n"
                                  "  - {type: dirichlet, on: top, value: 0, hard: true}\n");
  REQUIRE_THAT(whole_and_piece, Catch::Contains("each needs `on:`"));
  auto predicate = problem_error(cavity + poisson + "  - {type: dirichlet, where: \"y > 0.5\", value: 1, hard: true}\n");
  REQUIRE_THAT(predicate, Catch::Contains("not by a predicate"));

  // CSG results have piece distances: a square with a hole takes hard data on the square and on the circle.
  auto holed = problem_from(R"yaml(
geometry:
  difference:
    - rectangle: {min: [0, 0], max: [1, 1]}
    - disk: {center: [0.5, 0.5], radius: 0.2}
pde: {name: poisson}
conditions:
  - {type: dirichlet, on: [x_min, x_max, y_min, y_max], value: 1, hard: true}
  - {type: dirichlet, on: circle, value: 0, hard: true}
)yaml");
  REQUIRE(holed.conditions.size() == 2);
  // A mesh has only its whole boundary: the loader says so at the condition.
  if (PHYSIS_HAVE_GMSH) {
    auto meshed = problem_error(R"yaml(
geometry:
  gmsh:
    mesh_size: 0.25
    shape: {rectangle: {min: [0, 0], max: [1, 1], boundary: {y_max: top, x_min: wall, x_max: wall, y_min: wall}}}
pde: {name: poisson}
conditions:
  - {type: dirichlet, on: top, value: 1, hard: true}
  - {type: dirichlet, on: wall, value: 0, hard: true}
)yaml");
    REQUIRE_THAT(meshed, Catch::StartsWith("test.yaml:8:") && Catch::Contains("piece distances are not available") &&
                             Catch::Contains("use a soft condition"));
  }

  // One hard condition naming every piece is the whole boundary: accepted on any geometry, as before.
  auto whole = problem_from(cavity + poisson + "  - {type: dirichlet, on: [top, left, right, bottom], value: 0, hard: true}\n");
  REQUIRE(whole.conditions.size() == 1);
}

TEST_CASE("hard data on some pieces leaves the others free for their soft conditions", "[hard]") {
  // A channel: hard data on the inlet and the walls, a soft outflow condition on the outlet.
  for (const std::string hard : {"  - {type: dirichlet, on: [left, top, bottom], value: \"y*(1 - y) + x\", hard: true}\n",
                                 "  - {type: dirichlet, on: left, value: \"y*(1 - y)\", hard: true}\n"
                                 "  - {type: dirichlet, on: [top, bottom], value: x, hard: true}\n"}) {
    INFO(hard);
    auto p = problem_from(cavity + "pde: {name: poisson}\nconditions:\n" + hard +
                          "  - {type: neumann, on: right, value: 0, name: outflow}\n");
    pinn::Solver solver(p, runtime64(2));
    geometry::Sampler sampler(geometry::SamplerOptions().seed(3), torch::kFloat64);
    auto b = p.domain->sample_boundary(2000, sampler);
    auto x = b.points.select(1, 0), y = b.points.select(1, 1);
    auto u = solver.network()->forward(b.points).select(1, 0);
    auto g = y * (1 - y) + x;
    auto held = b.mask("left") | b.mask("top") | b.mask("bottom");
    REQUIRE(max_abs((u - g).index({held})) < 1e-6);
    REQUIRE(max_abs((u - g).index({b.mask("right")})) > 1e-3);  // the outlet is free
    bool outflow = false;
    for (const auto& [name, value] : solver.loss(0)) outflow = outflow || name == "outflow";
    REQUIRE(outflow);
  }
}

TEST_CASE("hard conditions on Poisson2d-C's CSG pieces hold exactly, by reverse and forward mode", "[hard]") {
  auto p = pinn::Problem::load(PHYSIS_SOURCE_DIR "/problems/poisson2d_c_hard.yaml");
  p.network.hidden = {32, 32};
  p.sampling.interior_points = 256;
  REQUIRE(p.domain->boundary_names() == std::vector<std::string>{"outer", "holes"});
  require_exact_on_pieces(p, {{"outer", constant(1)}, {"holes", constant(0)}});
}

TEST_CASE("hard conditions on a difference with a nested union and on a 3-D box minus a ball", "[hard]") {
  // A square minus a disk and a bar overlapping it, with data that varies along the pieces.
  auto plate = problem_from(R"yaml(
geometry:
  difference:
    - rectangle: {min: [-1, -1], max: [1, 1], boundary: outer}
    - union:
        - disk: {center: [0, 0], radius: 0.3}
        - rectangle: {min: [0.1, -0.1], max: [0.6, 0.1], boundary: bar}
pde: {name: poisson, source: 1}
conditions:
  - {type: dirichlet, on: outer, value: 1, hard: true}
  - {type: dirichlet, on: circle, value: "x*y", hard: true}
  - {type: dirichlet, on: bar, value: "2*x", hard: true}
network: {hidden: [32, 32]}
training: {phases: [{steps: 1}], interior_points: 128, boundary_points: 64}
)yaml");
  require_exact_on_pieces(plate, {{"outer", constant(1)},
                                  {"circle", [](const torch::Tensor& x) { return x.select(1, 0) * x.select(1, 1); }},
                                  {"bar", coordinate(0, 2.0)}});

  auto solid = problem_from(R"yaml(
geometry:
  difference:
    - box:
        min: [0, 0, 0]
        max: [1, 1, 1]
        boundary: {z_max: lid, x_min: wall, x_max: wall, y_min: wall, y_max: wall, z_min: wall}
    - ball: {center: [0.5, 0.5, 0.5], radius: 0.25}
pde: {name: poisson, source: 1}
conditions:
  - {type: dirichlet, on: lid, value: 1, hard: true}
  - {type: dirichlet, on: wall, value: 0, hard: true}
  - {type: dirichlet, on: sphere, value: "z", hard: true}
network: {hidden: [32, 32]}
training: {phases: [{steps: 1}], interior_points: 128, boundary_points: 64}
)yaml");
  require_exact_on_pieces(solid, {{"lid", constant(1)}, {"wall", constant(0)}, {"sphere", coordinate(2)}});
}

TEST_CASE("the function-jet cache returns the uncached jet and recomputes only for new points or directions",
          "[hard]") {
  int64_t calls = 0;
  auto f = [&calls](const torch::Tensor& x) {
    ++calls;
    return torch::stack({torch::sin(x.select(1, 0)) * x.select(1, 1), x.square().sum(1)}, 1);
  };
  pinn::FunctionJetCache cache(f, 2);
  auto x = torch::rand({50, 2}, torch::kFloat64), y = torch::rand({30, 2}, torch::kFloat64);
  auto jet_x = Jet::along_axes(x, {}, false), jet_y = Jet::along_axes(y, {}, false);
  auto expected = pinn::function_jet(f, jet_x);
  calls = 0;
  auto a = cache(jet_x);
  REQUIRE(calls == 1);
  REQUIRE(torch::equal(a.value, expected.value));
  REQUIRE(torch::equal(a.first, expected.first));
  REQUIRE(torch::equal(a.second, expected.second));
  cache(jet_y);                                        // a second set of points: its own entry
  cache(Jet::along_axes(x.clone(), {}, false));       // equal points in a new tensor: remembered
  cache(jet_y);
  REQUIRE(calls == 2);
  REQUIRE(cache.hits() == 2);
  cache(Jet::along_axes(x, {}, true));                 // summed mode is another jet
  cache(Jet::along_axes(x, {1}, false));               // other directions too
  REQUIRE(calls == 4);
  auto moved = x.clone();
  moved[0][0] += 1e-3;                                 // one point moved: recomputed, and right
  auto b = cache(Jet::along_axes(moved, {}, false));
  REQUIRE(calls == 5);
  REQUIRE(torch::allclose(b.second, pinn::function_jet(f, Jet::along_axes(moved, {}, false)).second));
}

TEST_CASE("the hard data's jets are computed once per point set, however many soft conditions need derivatives",
          "[hard]") {
  // Six point sets per step (the interior and five soft conditions with derivatives), all through the hard
  // transform of u in forward mode: a second loss on the same points must reuse every jet.
  auto p = problem_from(cavity + R"yaml(
outputs: [u, v]
equations: ["-laplace(u) - 1", "-laplace(v) - 1"]
conditions:
  - {type: dirichlet, output: u, on: top, value: 1, hard: true}
  - {type: dirichlet, output: u, on: [left, right, bottom], value: 0, hard: true}
  - {type: residual, on: top, expression: "v_y"}
  - {type: residual, on: left, expression: "v_x + u_x"}
  - {type: residual, on: right, expression: "v_x"}
  - {type: residual, on: bottom, expression: "v_y - u_y"}
  - {type: neumann, output: v, on: left, value: 0}
training: {interior_points: 64, boundary_points: 32}
)yaml");
  pinn::Solver solver(p, runtime64(3));
  REQUIRE(solver.uses_taylor());
  solver.loss(0);
  const int64_t first = solver.hard_jet_misses();
  CHECK(first == 6);
  solver.loss(1);
  CHECK(solver.hard_jet_misses() == first);
  // `derivatives: autograd` holds for the conditions too: no forward-mode jets at all.
  auto q = p;
  q.derivatives = pinn::DerivativeMode::autograd;
  pinn::Solver reverse(q, runtime64(3));
  REQUIRE_FALSE(reverse.uses_taylor());
  reverse.loss(0);
  CHECK(reverse.hard_jet_misses() == 0);
}

TEST_CASE("a clamped hard condition holds the value and its normal derivative", "[hard]") {
  // u = g + phi^2 N: on the pieces, u = g and grad u = grad g, for the untrained network; without `clamped`
  // the gradient differs (negative control).
  const std::string value = "x*y + sin(2*x) + y^2";
  auto g = [](const torch::Tensor& x) {
    auto px = x.select(1, 0), py = x.select(1, 1);
    return std::tuple{px * py + torch::sin(2 * px) + py * py, py + 2 * torch::cos(2 * px), px + 2 * py};
  };
  const bool clamped = GENERATE(true, false);
  const bool pieces = GENERATE(true, false);
  INFO((clamped ? "clamped" : "not clamped") << (pieces ? ", on left and bottom" : ", on the whole boundary"));
  auto p = problem_from(cavity + "pde: {name: poisson, source: 1}\nconditions:\n  - {type: dirichlet, value: \"" +
                        value + "\", hard: true" + (pieces ? ", on: [left, bottom]" : "") +
                        (clamped ? ", clamped: true" : "") + "}\n" +
                        (pieces ? "  - {type: neumann, on: [top, right], value: 0}\n" : "") +
                        "training: {interior_points: 64, boundary_points: 64}\n");
  pinn::Solver solver(p, runtime64(4));
  geometry::Sampler sampler(geometry::SamplerOptions().seed(5), torch::kFloat64);
  auto b = p.domain->sample_boundary(400, sampler);
  auto on = pieces ? (b.mask("left") | b.mask("bottom")) : torch::ones({b.size()}, torch::kBool);
  const auto x = b.points.index({on});
  REQUIRE(x.size(0) > 50);
  require_gradient_held(clamped, gradient_error_where_value_holds(solver, x, g, 1e-6), 1e-6);
  // Inside, forward mode sees the same derivatives of the clamped transform as reverse mode.
  auto net = solver.network();
  require_forward_equals_reverse(net, high_derivatives(p), p.domain->sample_interior(100, sampler),
                                 high_tolerance);
}

TEST_CASE("a clamped hard initial condition holds the value and the time derivative", "[hard]") {
  auto p = problem_from(R"yaml(
geometry: {interval: {min: 0, max: 1}}
time: [0, 1]
equations: ["u_tt - u_xx"]
conditions:
  - {type: dirichlet, value: 0}
  - {type: initial, value: "sin(pi*x) + t*cos(pi*x)", hard: true, clamped: true}
training: {interior_points: 64, boundary_points: 16}
)yaml");
  pinn::Solver solver(p, runtime64(6));
  auto x = torch::stack({torch::linspace(0, 1, 50, torch::kFloat64), torch::zeros({50}, torch::kFloat64)}, 1)
               .requires_grad_(true);
  Derivatives d(x, solver.network()->forward(x));
  auto px = x.detach().select(1, 0);
  REQUIRE(max_abs(d.value(0) - torch::sin(std::numbers::pi * px)) < 1e-6);
  REQUIRE(max_abs(d.d(0, 1) - torch::cos(std::numbers::pi * px)) < 1e-6);
  // Later, u and u_t are the network's.
  auto later = x.detach().clone();
  later.select(1, 1).fill_(0.5);
  REQUIRE(max_abs(solver.network()->forward(later).select(1, 0) - torch::sin(std::numbers::pi * px) -
                  0.5 * torch::cos(std::numbers::pi * px)) > 1e-3);
}

TEST_CASE("clamped conditions: mistakes name the line", "[hard]") {
  const std::string base = cavity + "pde: {name: poisson, source: 1}\nconditions:\n";
  CHECK_THAT(problem_error(base + "  - {type: dirichlet, value: 0, clamped: true}\n"),
             Catch::StartsWith("test.yaml:6:") && Catch::Contains("add `hard: true`"));
  CHECK_THAT(problem_error(base + "  - {type: neumann, value: 0, hard: true, clamped: true}\n"),
             Catch::StartsWith("test.yaml:6:"));
}

TEST_CASE("clamped and plain hard conditions on one output, piece by piece", "[hard]") {
  // Clamped on left and bottom with A, plain on top and right with B = A + x + y - 1 (A = B where the pieces meet,
  // B - A nonzero along the clamped pieces, so the blend's weights must not tilt A's normal derivative there): on the
  // clamped pieces u = A and grad u = grad A; on the plain ones u = B but the normal derivative is the untrained
  // network's (negative control). The points sit 1e-7 inside: on the boundary itself the distances' kink hides the
  // blend's own derivative. Within 1e-2 of the corners where clamped and plain pieces meet, the tilt of the normal
  // derivative goes as (distance to the clamped piece) / (distance to the plain one), and is left out.
  auto g = [](const torch::Tensor& x, double c) {
    auto px = x.select(1, 0), py = x.select(1, 1);
    return std::tuple{px * py + torch::sin(2 * px) + py * py + c * (px + py - 1), py + 2 * torch::cos(2 * px) + c,
                      px + 2 * py + c};
  };
  auto p = problem_from(cavity + R"yaml(pde: {name: poisson, source: 1}
conditions:
  - {type: dirichlet, on: [left, bottom], value: "x*y + sin(2*x) + y^2", hard: true, clamped: true}
  - {type: dirichlet, on: [top, right], value: "x*y + sin(2*x) + y^2 + x + y - 1", hard: true}
training: {interior_points: 64, boundary_points: 64}
)yaml");
  pinn::Solver solver(p, runtime64(4));
  geometry::Sampler sampler(geometry::SamplerOptions().seed(5), torch::kFloat64);
  auto b = p.domain->sample_boundary(800, sampler);
  for (const bool clamped : {true, false}) {
    INFO((clamped ? "the clamped pieces" : "the plain pieces"));
    auto on = clamped ? (b.mask("left") | b.mask("bottom")) : (b.mask("top") | b.mask("right"));
    const auto px = b.points.select(1, 0), py = b.points.select(1, 1);
    on &= torch::minimum(px.square() + (py - 1).square(), (px - 1).square() + py.square()) > 1e-4;
    const auto x = (b.points - 1e-7 * b.normals).index({on});
    REQUIRE(x.size(0) > 100);
    const double gradient_error = gradient_error_where_value_holds(
        solver, x, [&](const torch::Tensor& at) { return g(at, clamped ? 0.0 : 1.0); }, 1e-5);
    require_gradient_held(clamped, gradient_error, 1e-4);  // O(1) with phi_i^-1 weights
  }
  // Inside, forward mode sees the same derivatives of the mixed transform as reverse mode.
  auto net = solver.network();
  require_forward_equals_reverse(net, high_derivatives(p), p.domain->sample_interior(100, sampler),
                                 high_tolerance);
}

TEST_CASE("a plate clamped on two edges and simply supported on two: the product distance is smooth at the corners",
          "[hard]") {
  // w = 0 on all four edges, dw/dn = 0 on x = 0 and 1 (clamped), w_yy = 0 on y = 0 and 1 (soft). With
  // `distance: product` the pieces' distances and their join are products, phi * s = x(1-x) y(1-y) s, s = c / (1 +
  // c / 0.5), c = x(1-x): a polynomial over a positive denominator, so the transform's fourth derivatives stay small
  // at the corners, where the R-equivalence's (the same file without the key) grow without bound.
  const auto file = [](const std::string& distance) {
    return problem_from("geometry: {rectangle: {min: [0, 0], max: [1, 1]" + distance + R"yaml(}}
outputs: [w]
equations: ["w_xxxx + 2*w_xxyy + w_yyyy - 1"]
conditions:
  - {type: dirichlet, on: [x_min, x_max], value: 0, hard: true, clamped: true}
  - {type: dirichlet, on: [y_min, y_max], value: 0, hard: true}
  - {type: residual, on: [y_min, y_max], expression: w_yy, name: moment}
training: {interior_points: 64, boundary_points: 64}
)yaml");
  };
  const auto product = file(", distance: product"), plain = file("");
  // The fourth x-derivative of the transform's factor at one point.
  const auto fourth = [](const pinn::Problem& p, const torch::Tensor& at) {
    return std::abs(physis::test::fourth_derivative(
        [&](const torch::Tensor& x) { return pinn::hard_transform_data(p, x).select(1, 1); }, at, 0));
  };
  geometry::Sampler sampler(geometry::SamplerOptions().seed(3), torch::kFloat64);
  const auto x = product.domain->sample_interior(500, sampler);
  const auto px = x.select(1, 0), py = x.select(1, 1), c = px * (1 - px);
  REQUIRE(torch::allclose(pinn::hard_transform_data(product, x).select(1, 1), c * py * (1 - py) * c / (1 + 2 * c)));
  const auto corner = torch::tensor({{1e-3, 2e-3}}, torch::kFloat64);
  CHECK(fourth(product, corner) < 100);
  CHECK(fourth(plain, corner) > 1e4);
  // The clamped edges hold w = 0 and grad w = 0; the simply supported ones w = 0 only.
  pinn::Solver solver(product, runtime64(4));
  auto b = product.domain->sample_boundary(400, sampler);
  const auto zero = [](const torch::Tensor& at) {
    auto z = torch::zeros({at.size(0)}, at.options());
    return std::tuple{z, z, z};
  };
  for (const bool clamped : {true, false}) {
    INFO((clamped ? "the clamped edges" : "the simply supported edges"));
    const auto on = clamped ? b.mask("x_min") | b.mask("x_max") : b.mask("y_min") | b.mask("y_max");
    const auto inside = (b.points - 1e-7 * b.normals).index({on});
    require_gradient_held(clamped, gradient_error_where_value_holds(solver, inside, zero, 1e-6), 1e-5);
  }
  // Forward mode carries the fourth derivatives of the transform as reverse mode does.
  auto net = solver.network();
  require_forward_equals_reverse(net, product.equations, product.domain->sample_interior(100, sampler),
                                 high_tolerance);
}

TEST_CASE("a clamped inlet's factor stays bounded along a long channel", "[hard]") {
  // u clamped on the inlet of a channel 22 long, plain on the walls: phi * s with s = c / (1 + c / l), l = 2.05
  // (half the height), stays of the size of the walls' distance; a bare c = x would grow it 22-fold downstream.
  auto p = problem_from(R"yaml(
geometry:
  rectangle: {min: [0, 0], max: [22, 4.1], boundary: {x_min: inlet, x_max: outlet, y_min: wall, y_max: wall}}
pde: {name: poisson, source: 1}
conditions:
  - {type: dirichlet, on: inlet, value: "y*(4.1 - y)", hard: true, clamped: true}
  - {type: dirichlet, on: wall, value: 0, hard: true}
  - {type: neumann, on: outlet, value: 0}
)yaml");
  geometry::Sampler sampler(geometry::SamplerOptions().seed(2), torch::kFloat64);
  const auto x = p.domain->sample_interior(4000, sampler);
  const auto phi = pinn::hard_transform_data(p, x).select(1, 1);
  REQUIRE(phi.min().item<double>() >= 0);
  REQUIRE(phi.max().item<double>() < 2.05 * 2.05);
  // Far downstream the factor is near its bound l, not x: phi / (walls' distance) < l.
  const auto far = x.select(1, 0) > 15;
  const auto walls = x.select(1, 1) * (4.1 - x.select(1, 1)) /
                     torch::sqrt(x.select(1, 1).square() + (4.1 - x.select(1, 1)).square());
  REQUIRE((phi.index({far}) / walls.index({far})).max().item<double>() < 2.05);
}
