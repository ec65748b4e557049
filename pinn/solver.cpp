#include "pinn/solver.h"

#include "core/checkpoint.h"
#include "core/csv.h"
#include "core/messages.h"
#include "geometry/adf.h"
#include "geometry/selection.h"
#include "pinn/field_output.h"
#include "pinn/plots.h"
#include "pinn/reference.h"

#include <algorithm>
#include <cmath>
#include <iostream>
#include <limits>
#include <optional>
#include <set>

namespace physis::pinn {

namespace {
torch::Tensor sum_of_squares_mean(const torch::Tensor& r) { return r.square().mean(); }

// [planes]: the sum of values [N] over the points of each cross-section (plane [N] holds each point's section).
torch::Tensor sum_per_plane(const torch::Tensor& values, const torch::Tensor& plane, int64_t planes) {
  return torch::zeros({planes}, values.options()).index_add(0, plane, values);
}

// Unit normals [N, d] as the expressions' extras n_x, n_y, ...
std::map<std::string, torch::Tensor> normal_components(const Problem& p, const torch::Tensor& normals) {
  std::map<std::string, torch::Tensor> out;
  for (std::size_t k = 0; k < p.symbols.spatial_inputs.size(); ++k)
    out["n_" + p.symbols.spatial_inputs[k]] = normals.select(1, static_cast<int64_t>(k));
  return out;
}

// How conditions and integrals take derivatives: nested reverse mode when the file asks for it (`derivatives:
// autograd`, e.g. to compare the two), else forward mode where it serves; `taylor` is not forced on them, whose
// formulas may ask for more than the equations do.
DerivativeMode condition_derivatives(const Problem& p) {
  return p.derivatives == DerivativeMode::autograd ? DerivativeMode::autograd : DerivativeMode::automatic;
}

// Boundary points [N, d (+ t)] moved a hair inside the domain, 1e-6 of its diameter along the inward normal [N, d]:
// a hard output g + phi N is only one-sided differentiable on the boundary, where the distance phi has its kink (phi
// ~ |f| near a piece, and its gradient there is 0 or of either sign, by rounding). On the boundary itself the
// N grad(phi) part of the output's gradient would be lost (the wall shear of a no-slip wall in a drag integral, a
// soft Neumann or no-slip condition on a piece with hard data). The shift changes smooth values by O(1e-6).
torch::Tensor inside_boundary(const Problem& p, const torch::Tensor& points, const torch::Tensor& normals) {
  auto moved = points.clone();
  moved.narrow(1, 0, normals.size(1)).sub_(1e-6 * p.domain->diameter() * normals.to(points.options()));
  return moved;
}

// Dirichlet data given piece by piece (Sukumar & Srivastava 2022): g blends the conditions' values by
// transfinite interpolation over the pieces' ADFs, so it equals each condition's value on its pieces; phi, their
// join (the R-equivalence, or the product for a box or convex polygon with `distance: product`, smooth at the
// corners where the pieces of two conditions meet), is zero on all of them; squared where every condition is
// clamped. Where some (not all) are clamped, phi is multiplied by s = c / (1 + c / l), c the join of the clamped
// ones' ADFs (phi ~ d^2 next to them, ~ d next to the others), and the blend's weights go as phi_i^-2 instead of phi_i^-1: the other
// pieces' weights are then O(phi_i^2) next to piece i, so g matches value_i to first order there, normal derivative
// included. s has c's slope at the pieces but
// stays below l, half the bounding box's shortest side: a bare c grows with the distance from a clamped inlet along
// a long channel (to 22 diameters), and the network would have to shrink its output as 1 / c to make up for it.
// Returns g, phi [N].
std::pair<torch::Tensor, torch::Tensor> piecewise_dirichlet(const geometry::Geometry& domain,
                                                            const std::vector<const Condition*>& conditions,
                                                            const torch::Tensor& x) {
  std::vector<torch::Tensor> phis, values, clamped;
  for (const auto* c : conditions) {
    phis.push_back(domain.piece_distance(x, c->selector.pieces));
    values.push_back(evaluate_on_points(*c->value, x));
    if (c->clamped) clamped.push_back(phis.back());
  }
  auto phi = torch::stack(phis, 1), value = torch::stack(values, 1);  // [N, k]
  auto g = geometry::transfinite_interpolation(phi, value, clamped.empty() ? 1.0 : 2.0);
  auto distance = domain.join_distances(phi);
  if (clamped.size() == conditions.size()) {
    distance = distance.square();  // every piece clamped: phi^2, as for the whole boundary
  } else if (!clamped.empty()) {
    const auto box = domain.bounding_box();
    double shortest = std::numeric_limits<double>::infinity();
    for (std::size_t k = 0; k < box.lower.size(); ++k) shortest = std::min(shortest, box.upper[k] - box.lower[k]);
    const auto c = domain.join_distances(torch::stack(clamped, 1));
    distance = distance * c / (1 + c / (shortest / 2));
  }
  return {g, distance};
}
}  // namespace

// out_j = g_j(x) + phi_j(x) raw_j, with phi_j = 0 where the conditions hold: the boundary's distance function for
// Dirichlet data, t - t0 for initial data, the pieces' blend for data given piece by piece (zero only on the pieces
// named: others stay free for their soft conditions), squared next to a clamped condition's pieces. Outputs without
// a hard condition keep g = 0, phi = 1. Returns [g_1..g_m, phi_1..phi_m] [N, 2m].
torch::Tensor hard_transform_data(const Problem& problem, const torch::Tensor& x) {
  std::vector<std::vector<const Condition*>> hard(problem.num_outputs());  // per output, as Problem checked them
  for (const auto& c : problem.conditions)
    if (c.hard_data()) hard[c.output].push_back(&c);
  std::vector<torch::Tensor> g, phi;
  for (const auto& conditions : hard) {
    if (conditions.empty()) {
      g.push_back(torch::zeros({x.size(0)}, x.options()));
      phi.push_back(torch::ones({x.size(0)}, x.options()));
    } else if (conditions.size() == 1 && conditions.front()->selector.pieces.empty()) {
      const auto& c = *conditions.front();
      g.push_back(evaluate_on_points(*c.value, x));
      auto distance = c.kind == ConditionKind::initial ? problem.space_time->initial_distance(x)
                                                       : problem.domain->distance(x);
      phi.push_back(c.clamped ? distance.square() : distance);  // phi^2 N has no normal derivative there
    } else {
      auto [gj, phij] = piecewise_dirichlet(*problem.domain, conditions, x);
      g.push_back(gj);
      phi.push_back(phij);
    }
  }
  return torch::cat({torch::stack(g, 1), torch::stack(phi, 1)}, 1);
}

Solver::Solver(Problem problem, const Runtime& runtime)
    : problem_(std::move(problem)),
      runtime_(runtime),
      sampler_(geometry::SamplerOptions().kind(problem_.sampling.sampler).seed(runtime.seed),
               runtime.options().dtype(problem_.sampling.draw_dtype.value_or(runtime.dtype))) {
  const auto& p = problem_;
  // Network: inputs scaled from the domain's bounding box (or the file's input_box) to [-1, 1].
  std::vector<int64_t> widths{p.num_inputs()};
  widths.insert(widths.end(), p.network.hidden.begin(), p.network.hidden.end());
  widths.push_back(p.num_outputs());
  auto box = p.domain->bounding_box();
  std::vector<int64_t> periodic;  // hard periodic axes: the network is periodic over the box along them
  for (const auto& c : p.conditions)
    if (c.hard_periodic()) periodic.push_back(c.axis);
  net_ = FieldNetwork(FieldNetworkOptions(MLPOptions(widths).activation(p.network.activation))
                          .input_lower(p.network.input_lower.empty() ? box.lower : p.network.input_lower)
                          .input_upper(p.network.input_upper.empty() ? box.upper : p.network.input_upper)
                          .fourier_features(p.network.fourier_features)
                          .fourier_sigma(p.network.fourier_sigma)
                          .periodic_inputs(periodic)
                          .output_scale(p.network.output_scale)
                          .output_shift(p.network.output_shift));
  net_->to(runtime_.device, runtime_.dtype);
  // The unknowns train with the network: registered as its parameters, the optimizer moves them, checkpoints hold
  // them and a change of precision converts them. Each solver starts them from their initial values (a resumed
  // run then reads them from its checkpoint).
  for (auto& [name, unknown] : problem_.symbols.unknowns) {
    const auto& spec = p.unknowns.at(name);
    unknown.raw.set_data(torch::scalar_tensor(spec.raw_initial(), runtime_.options()));
    net_->register_parameter("unknown_" + name, unknown.raw);
  }
  install_hard_constraints();

  pde_ = std::make_unique<ResidualEvaluator>(p.equations, p.derivatives);
  if (p.sampling.stochastic_laplacian) pde_->set_stochastic_laplacian(*p.sampling.stochastic_laplacian);
  for (const auto& c : p.conditions) {
    ConditionBatch batch;
    if (c.kind == ConditionKind::data) {  // a plain misfit of outputs at fixed points: set up once
      batch.x = c.at.to(runtime_.options());
      const auto known = ~torch::isnan(c.data);
      batch.target = torch::where(known, c.data, torch::zeros_like(c.data)).to(runtime_.options());
      batch.observed = known.to(runtime_.options());
      batch.columns = torch::tensor(c.data_outputs, torch::kLong).to(runtime_.device);
    }
    if (c.hard || c.kind == ConditionKind::data) {  // imposed by the network, or no derivatives to plan
      batches_.push_back(std::move(batch));
      continue;
    }
    auto terms = c.kind == ConditionKind::periodic ? c.periodic_terms : std::vector<Expression>{c.residual};
    batch.evaluator = std::make_unique<ResidualEvaluator>(terms, condition_derivatives(p));
    batches_.push_back(std::move(batch));
  }
  sample();
  load_reference();
  prepare_integrals();
  // Once per problem file and condition in a process: a run whose phases change precision builds one solver each.
  static std::set<std::string> warned;
  for (const auto& name : hard_transforms_holding_exact(p, interior_))
    if (warned.insert(p.file + "\n" + name).second)
      warn(p.file + ": with the hard condition '" + name + "' the output transform g + phi N equals "
           "reference.exact for a constant network output N (e.g. its value is the exact solution inside the "
           "domain as well, or the exact solution is phi^2 times a constant), so the network holds the answer "
           "without learning a field and the reference errors measure little. Give the boundary data in a form that "
           "is not the solution inside, or choose an exact solution that the transform does not hold.");
}

std::vector<std::string> hard_transforms_holding_exact(const Problem& problem, const torch::Tensor& points) {
  std::vector<std::string> names;
  if (problem.exact.empty() || points.size(0) == 0 || !problem.has_hard_data()) return names;
  const auto x = points.narrow(0, 0, std::min<int64_t>(points.size(0), 256)).detach().to(torch::kFloat64);
  const int64_t m = problem.num_outputs();
  const auto data = hard_transform_data(problem, x);
  for (int64_t j = 0; j < m; ++j) {
    const auto exact = problem.exact.find(problem.symbols.outputs[j]);
    if (exact == problem.exact.end()) continue;
    const auto g = data.select(1, j), phi = data.select(1, m + j);
    const auto truth = evaluate_on_points(exact->second, x).reshape({-1}).expand({x.size(0)});
    // The raw output the transform needs, N = (exact - g) / phi, where phi is not small (rounding grows as 1/phi).
    const auto away = phi.abs() > 1e-3 * phi.abs().max();
    if (away.sum().item<int64_t>() < 2) continue;
    const auto needed = ((truth - g) / phi).index({away});
    const double spread = (needed.max() - needed.min()).item<double>();
    const double scale = std::max(needed.abs().max().item<double>(), truth.abs().max().item<double>());
    if (spread > 1e-9 * std::max(scale, 1e-300)) continue;
    for (const auto& c : problem.conditions)
      if (c.hard_data() && c.output == j) names.push_back(c.name);
  }
  return names;
}

void Solver::prepare_integrals() {
  const auto& p = problem_;
  for (const auto& integral : p.output.integrals) {
    // Quasi-random points over the whole boundary (by length/area), so that the selection's share of them
    // estimates its measure; the same points every run.
    // More points until the selection holds at least `points` of them.
    int64_t total = 4 * integral.points, count = 0;
    geometry::BoundaryPoints all;
    torch::Tensor selected;
    for (;;) {
      geometry::Sampler sobol(geometry::SamplerOptions().kind(geometry::SamplerKind::sobol).seed(0), torch::kFloat64);
      all = p.domain->sample_boundary(total, sobol);
      selected = geometry::select_boundary(all, integral.selector);
      count = selected.sum().item<int64_t>();
      if (count >= integral.points || total >= 10000000) break;
      total = std::min<int64_t>(10000000, static_cast<int64_t>(1.2 * static_cast<double>(total) *
                                                               static_cast<double>(integral.points) /
                                                               static_cast<double>(std::max<int64_t>(count, 1))));
    }
    if (count == 0)
      throw std::runtime_error("output.integrals: no boundary point of " + std::to_string(total) +
                               " lies on the selection of '" + integral.name + "'");
    IntegralQuadrature q;
    q.x = inside_boundary(p, all.points.index({selected}), all.normals.index({selected})).to(runtime_.options());
    q.normals = normal_components(p, all.normals.index({selected}).to(runtime_.options()));
    q.weight = p.domain->boundary_measure() / static_cast<double>(total);
    q.evaluator = std::make_unique<ResidualEvaluator>(std::vector<Expression>{integral.integrand},
                                                      condition_derivatives(p));
    quadratures_.push_back(std::move(q));
  }
}

Metrics Solver::integrals() {
  Metrics metrics;
  torch::AutoGradMode enable_grad(true);  // the integrands hold derivatives of the outputs
  const auto& specs = problem_.output.integrals;
  for (std::size_t i = 0; i < specs.size(); ++i) {
    auto& q = quadratures_[i];
    double sum = 0;
    const int64_t chunk = 8192;
    for (int64_t start = 0; start < q.x.size(0); start += chunk) {
      const int64_t n = std::min(chunk, q.x.size(0) - start);
      std::map<std::string, torch::Tensor> normals;
      for (const auto& [name, values] : q.normals) normals[name] = values.narrow(0, start, n);
      auto f = q.evaluator->evaluate(net_, q.x.narrow(0, start, n), normals).front();
      sum += f.detach().to(torch::kFloat64).sum().item<double>();
    }
    const double value = q.weight * sum;
    metrics.emplace_back(specs[i].name, value);
    if (specs[i].reference)
      metrics.emplace_back(specs[i].name + "_relerr", std::abs(value - *specs[i].reference) / std::abs(*specs[i].reference));
  }
  return metrics;
}

void Solver::install_hard_constraints() {
  const auto& p = problem_;
  if (!p.has_hard_data()) return;
  auto problem = &problem_;
  auto known = [problem](const torch::Tensor& x) { return hard_transform_data(*problem, x); };
  const int64_t m = p.num_outputs();
  // One entry per point set a step evaluates (the interior points and each soft condition's), and a few more for
  // evaluations: with fewer, the sets evict each other and every step recomputes the hard data's jets by nested
  // autograd on the piece distances (2.6x the step of the DFG stress-form file, with five such conditions).
  auto known_jet = std::make_shared<FunctionJetCache>(known, p.conditions.size() + 4);
  hard_jets_ = known_jet;
  net_->set_output_transform(
      [known, m](const torch::Tensor& x, const torch::Tensor& raw) {
        auto gp = known(x);
        return gp.narrow(1, 0, m) + gp.narrow(1, m, m) * raw;
      },
      [known_jet, m](const Jet& x, const Jet& raw) {
        auto gp = (*known_jet)(x);
        return jet_add(jet_narrow(gp, 0, m), jet_mul(jet_narrow(gp, m, m), raw));
      });
}

void Solver::sample() {
  draw_interior();
  draw_conditions();
}

void Solver::draw_interior() {
  const auto& p = problem_;
  interior_ = p.domain->sample_interior(p.sampling.interior_points, sampler_);
  if (!p.sampling.refine.empty()) {
    std::vector<torch::Tensor> parts{interior_};
    for (const auto& r : p.sampling.refine) parts.push_back(r.domain->sample_interior(r.points, sampler_));
    interior_ = torch::cat(parts);
  }
  interior_ = interior_.to(runtime_.options());
  // Weights belong to the points they were set for (adaptive methods set them again).
  interior_weights_ = p.sampling.interior_weight
                          ? evaluate_on_points(*p.sampling.interior_weight, interior_).detach().reshape({-1, 1})
                          : torch::Tensor();
}

void Solver::draw_conditions() {
  const auto& p = problem_;
  const bool hard_boundary_data = std::any_of(p.conditions.begin(), p.conditions.end(), [](const Condition& c) {
    return c.hard && c.kind == ConditionKind::dirichlet;
  });
  for (std::size_t i = 0; i < p.conditions.size(); ++i) {
    const auto& c = p.conditions[i];
    auto& b = batches_[i];
    b.extras.clear();
    if (c.hard) continue;  // no loss term, no points
    switch (c.kind) {
      case ConditionKind::initial:
      case ConditionKind::initial_rate:
        b.x = p.space_time->sample_initial(c.points, sampler_).to(runtime_.options());
        break;
      case ConditionKind::point:
        b.x = c.at.to(runtime_.options());
        break;
      case ConditionKind::data:  // fixed observations, set up with the batch
        break;
      case ConditionKind::periodic: {
        // Points on the low face of the periodic axis, paired with the same points moved to the high face.
        const auto box = p.domain->bounding_box();
        const double lo = box.lower[c.axis], hi = box.upper[c.axis], tol = 1e-6 * (hi - lo);
        const int64_t axis = c.axis;
        geometry::BoundarySelector low{{}, [axis, lo, tol](const torch::Tensor& x) {
                                         return (x.select(1, axis) - lo).abs() <= tol;
                                       }};
        b.x = geometry::sample_boundary_where(*p.domain, c.points, sampler_, low).points.to(runtime_.options());
        b.x.select(1, axis).fill_(lo);
        b.x_other = b.x.clone();
        b.x_other.select(1, axis).fill_(hi);
        break;
      }
      case ConditionKind::flux:
        sample_cross_sections(c, b);
        break;
      default: {
        auto bp = geometry::sample_boundary_where(*p.domain, c.points, sampler_, c.selector);
        b.x = bp.points.to(runtime_.options());
        b.extras = normal_components(p, bp.normals.to(runtime_.options()));
        // Derivatives of a hard output are one-sided on its pieces (inside_boundary). Without hard boundary data
        // the points stay on the boundary, where the condition holds exactly.
        if (hard_boundary_data && b.evaluator->needs_derivatives()) b.x = inside_boundary(p, b.x, bp.normals);
      }
    }
  }
}

// Cross-sections x_axis = const at `planes` positions drawn in the condition's range (each at a time drawn in the
// interval, for transient problems), with `points` points each over the bounding box's other spatial axes: stratified
// along the first of them (one point in each of `points` equal slices), uniform along the rest. The points outside the
// domain (in a hole, beyond a curved wall) are dropped; each kept point carries the measure of one slice cell.
void Solver::sample_cross_sections(const Condition& c, ConditionBatch& b) {
  const auto& p = problem_;
  const auto box = p.domain->bounding_box();
  const int64_t dim = p.space->dim(), inputs = p.num_inputs(), planes = c.planes, per_plane = c.points;
  auto where = sampler_.uniform(planes, inputs - dim + 1);  // position (and time) of each cross-section
  auto spread = sampler_.uniform(planes * per_plane, dim - 1);
  auto slice = torch::arange(per_plane, spread.options()).repeat({planes});
  std::vector<torch::Tensor> columns;
  double measure = 1.0 / per_plane;
  for (int64_t j = 0, k = 0; j < inputs; ++j) {
    torch::Tensor unit;  // the coordinate in [0, 1]
    double lower = box.lower[j], upper = box.upper[j];
    if (j == c.axis) {
      unit = where.select(1, 0).repeat_interleave(per_plane);
      lower = c.range_lower;
      upper = c.range_upper;
    } else if (j >= dim) {
      unit = where.select(1, 1).repeat_interleave(per_plane);
    } else {
      unit = k == 0 ? (slice + spread.select(1, k)) / per_plane : spread.select(1, k);
      measure *= upper - lower;
      ++k;
    }
    columns.push_back(lower + (upper - lower) * unit);
  }
  auto x = torch::stack(columns, 1);
  auto keep = p.domain->inside(x).nonzero().select(1, 0);
  b.x = x.index_select(0, keep).to(runtime_.options());
  b.plane = torch::div(keep, per_plane, "floor").to(runtime_.device);
  b.measure = measure;
  // The prescribed flux of each cross-section: the value's mean over its points (0 for one wholly outside).
  auto value = evaluate_on_points(*c.value, b.x).reshape({-1}).expand({b.x.size(0)}).detach();
  const auto count = sum_per_plane(torch::ones_like(value), b.plane, planes);
  b.target = sum_per_plane(value, b.plane, planes) / count.clamp_min(1);
}

LossTerms Solver::loss(int64_t step) {
  const auto& p = problem_;
  if (p.sampling.resample_every > 0 && step > 0 && step % p.sampling.resample_every == 0) {
    // Each redraw draws from a seed of its own (the run's seed and the redraw's number), so that a resumed run draws
    // what the uninterrupted one would have.
    const auto redraw = static_cast<uint64_t>(step / p.sampling.resample_every);
    const uint64_t seed = runtime_.seed * 0xBF58476D1CE4E5B9ULL + 0x94D049BB133111EBULL * redraw;
    sampler_ = geometry::Sampler(geometry::SamplerOptions(sampler_.sampler_options()).seed(seed), sampler_.options());
    // Interior points that an adaptive method placed stay until it places them again.
    if (!interior_placed_) draw_interior();
    draw_conditions();
  }
  LossTerms terms;
  auto estimate = pde_->estimate(net_, interior_);
  for (std::size_t i = 0; i < estimate.residuals.size(); ++i) {
    auto squared = squared_residual(estimate.residuals[i],
                                    estimate.partners.empty() ? torch::Tensor() : estimate.partners[i]);
    if (interior_weights_.defined()) squared = interior_weights_ * squared.reshape({interior_.size(0), -1});
    terms.emplace_back(p.equation_names[i], p.equation_weights[i] * squared.mean());
  }
  for (std::size_t i = 0; i < p.conditions.size(); ++i) {
    const auto& c = p.conditions[i];
    if (c.hard) continue;  // satisfied exactly by the output transform
    auto& b = batches_[i];
    torch::Tensor value;
    if (c.kind == ConditionKind::periodic) {
      auto a = b.evaluator->evaluate(net_, b.x);
      auto z = b.evaluator->evaluate(net_, b.x_other);
      for (std::size_t k = 0; k < a.size(); ++k) {
        auto term = sum_of_squares_mean(a[k] - z[k]);
        value = value.defined() ? value + term : term;
      }
    } else if (c.kind == ConditionKind::data) {
      const auto misfit = (net_->forward(b.x).index_select(1, b.columns) - b.target) * b.observed;
      value = misfit.square().sum() / b.observed.sum().clamp_min(1);
    } else if (c.kind == ConditionKind::flux) {
      auto f = b.evaluator->evaluate(net_, b.x, b.extras).front().reshape({-1}).expand({b.x.size(0)});
      auto flux = sum_per_plane(f, b.plane, c.planes) * b.measure;
      value = sum_of_squares_mean(flux - b.target);
    } else {
      value = sum_of_squares_mean(b.evaluator->evaluate(net_, b.x, b.extras).front());
    }
    terms.emplace_back(c.name, c.weight * value);
  }
  if (!term_scales_.empty()) {
    for (auto& [name, value] : terms) {
      auto it = term_scales_.find(name);
      if (it != term_scales_.end()) value = value * it->second;
    }
  }
  return terms;
}

void Solver::set_interior(torch::Tensor points, torch::Tensor weights) {
  TORCH_CHECK(points.dim() == 2 && points.size(1) == problem_.num_inputs(), "Solver::set_interior: expected [N, ",
              problem_.num_inputs(), "] points but got ", points.sizes());
  interior_ = points.detach().to(runtime_.options());
  interior_placed_ = true;
  set_interior_weights(std::move(weights));
}

void Solver::set_interior_weights(torch::Tensor weights) {
  if (weights.defined()) {
    TORCH_CHECK(weights.numel() == interior_.size(0), "Solver::set_interior_weights: ", weights.numel(),
                " weights for ", interior_.size(0), " points");
    weights = weights.detach().reshape({-1, 1}).to(runtime_.options());
  }
  interior_weights_ = weights;
}

torch::Tensor Solver::sample_interior(int64_t n) {
  return problem_.domain->sample_interior(n, sampler_).to(runtime_.options());
}

torch::Tensor Solver::residuals(const torch::Tensor& x, bool with_graph) {
  if (with_graph) return torch::stack(pde_->evaluate(net_, x), 1).reshape({x.size(0), -1});
  // Without graph, in chunks so that large candidate sets (RAR, RAD) fit in memory. Reverse mode needs a graph
  // to differentiate at all: it builds one per chunk and drops it.
  constexpr int64_t chunk = 8192;
  std::vector<torch::Tensor> parts;
  for (int64_t start = 0; start < x.size(0); start += chunk) {
    auto xc = x.narrow(0, start, std::min(chunk, x.size(0) - start)).detach();
    std::optional<torch::NoGradGuard> no_grad;
    if (pde_->uses_taylor()) no_grad.emplace();
    parts.push_back(torch::stack(pde_->evaluate(net_, xc), 1).reshape({xc.size(0), -1}).detach());
  }
  return torch::cat(parts);
}

void Solver::set_term_scale(const std::string& name, double factor) {
  const auto names = term_names();
  TORCH_CHECK(std::find(names.begin(), names.end(), name) != names.end(), "Solver::set_term_scale: no loss term '",
              name, "'");
  term_scales_[name] = factor;
}

std::vector<std::string> Solver::term_names() const {
  std::vector<std::string> names = problem_.equation_names;
  for (const auto& c : problem_.conditions)
    if (!c.hard) names.push_back(c.name);
  return names;
}

std::vector<double> Solver::output_times() const {
  const auto& p = problem_;
  if (!p.transient()) return {};
  const double t0 = p.space_time->t0(), t1 = p.space_time->t1();
  std::vector<double> times;
  for (int64_t s = 0; s < p.output.times; ++s)
    times.push_back(p.output.times > 1 ? t0 + (t1 - t0) * s / (p.output.times - 1) : t1);
  return times;
}

torch::Tensor Solver::output_points(const EvaluationGrid& grid) const {
  return problem_.transient() ? space_time_points(grid, output_times()) : grid.points;
}

void Solver::load_reference() {
  const auto& p = problem_;
  if (p.reference_file) {
    auto data = pinn::load_reference(*p.reference_file, p.symbols.inputs, p.symbols.outputs);
    try {
      reference_points_ = data.points_in(p.symbols.inputs).to(runtime_.options());
    } catch (const std::out_of_range& e) {
      p.reference_file->fail(std::string("the reference data has ") + e.what());
    }
    std::vector<torch::Tensor> values;
    for (const auto& name : p.symbols.outputs) {
      auto it = std::find(data.outputs.begin(), data.outputs.end(), name);
      values.push_back(it == data.outputs.end() ? torch::full({data.size()}, NAN, torch::kFloat64)
                                                : data.values.select(1, it - data.outputs.begin()));
    }
    reference_values_ = torch::stack(values, 1).to(runtime_.options());
    return;
  }
  if (p.exact.empty()) return;
  // Exact solutions are compared on the output grid (every time slice for transient problems), inside the domain.
  auto grid = make_grid(*p.space, p.output.grid);
  auto x = output_points(grid);
  auto valid = p.transient() ? grid.valid.repeat({static_cast<int64_t>(output_times().size())}) : grid.valid;
  reference_points_ = x.index({valid}).to(runtime_.options());
  reference_values_ = exact_values(reference_points_);
}

torch::Tensor Solver::exact_values(const torch::Tensor& x) const {
  std::vector<torch::Tensor> values;
  for (const auto& name : problem_.symbols.outputs) {
    auto it = problem_.exact.find(name);
    values.push_back(it == problem_.exact.end() ? torch::full({x.size(0)}, NAN, x.options())
                                                : evaluate_on_points(it->second, x));
  }
  return torch::stack(values, 1);
}

Metrics Solver::evaluate() {
  Metrics metrics = integrals();
  for (const auto& [name, unknown] : problem_.symbols.unknowns) {
    const double value = unknown.value().item<double>();
    metrics.emplace_back(name, value);
    if (const auto& truth = problem_.unknowns.at(name).reference)
      metrics.emplace_back(name + "_relerr", std::abs(value - *truth) / std::abs(*truth));
  }
  if (!reference_points_.defined()) return metrics;
  torch::NoGradGuard no_grad;
  auto prediction = net_->forward(reference_points_);
  for (int64_t j = 0; j < problem_.num_outputs(); ++j) {
    // Entries a reference does not give (NaN: another output's profile, an output without data) are left out.
    const auto truth = reference_values_.select(1, j);
    const auto known = ~torch::isnan(truth);
    if (!known.any().item<bool>()) continue;
    const auto t = truth.index({known}), u = prediction.select(1, j).index({known});
    const auto& name = problem_.symbols.outputs[j];
    metrics.emplace_back("l2re_" + name, relative_l2(u, t));
    metrics.emplace_back("maxerr_" + name, (u.to(torch::kFloat64) - t.to(torch::kFloat64)).abs().max().item<double>());
  }
  return metrics;
}

void Solver::write_results(const std::filesystem::path& folder) {
  torch::NoGradGuard no_grad;
  const auto& p = problem_;
  auto predict = [&](const torch::Tensor& x) { return net_->forward(x.to(runtime_.options())).to(torch::kFloat64); };
  auto grid = make_grid(*p.space, p.output.grid);
  FieldSet fields;
  fields.points = output_points(grid);
  fields.coordinates = p.symbols.inputs;
  fields.outputs = p.symbols.outputs;
  fields.prediction = predict(fields.points);
  if (!p.exact.empty()) fields.reference = exact_values(fields.points);
  if (p.transient())
    write_transient_fields(folder, "fields", fields, p.symbols.inputs.back(), &grid);
  else
    write_grid_fields(folder, "fields", grid, fields);

  if (reference_points_.defined() && !p.reference_file) {
    // exact references are already in the grid files
  } else if (reference_points_.defined()) {
    FieldSet at_reference{reference_points_.to(torch::kFloat64), p.symbols.inputs, p.symbols.outputs,
                          predict(reference_points_), reference_values_.to(torch::kFloat64)};
    if (p.transient())
      write_transient_fields(folder, "reference", at_reference, p.symbols.inputs.back());
    else
      write_point_fields(folder, "reference", at_reference);
  }

  if (!p.output.plots) return;
  plot_loss_history(folder / "history.csv", folder / "loss.png");
  if (p.space->dim() == 2 && !p.transient()) {
    plot_fields(folder, "fields", grid, fields);
  } else if (p.space->dim() == 2) {
    // The last output time (the slices are stacked in time order, one grid each).
    const int64_t n = grid.size();
    auto last = [n](const torch::Tensor& t) { return t.defined() ? t.narrow(0, t.size(0) - n, n) : t; };
    FieldSet final_slice{grid.points, {p.symbols.inputs.begin(), p.symbols.inputs.begin() + 2}, p.symbols.outputs,
                         last(fields.prediction), last(fields.reference)};
    plot_fields(folder, "fields_final", grid, final_slice, "t = " + format_number(output_times().back()));
  } else if (p.space->dim() == 1 && p.transient()) {
    // An (x, t) image of the whole history.
    auto box = p.domain->bounding_box();
    auto xt = make_grid(box, {p.output.grid[0], std::max<int64_t>(p.output.times, 101)});
    FieldSet image{xt.points, p.symbols.inputs, p.symbols.outputs, predict(xt.points), torch::Tensor()};
    if (!p.exact.empty()) image.reference = exact_values(xt.points);
    plot_fields(folder, "fields_xt", xt, image);
  }
}

}  // namespace physis::pinn
