#include "pinn/problem.h"

#include "pinn/adaptive.h"
#include "core/strings.h"

#include "core/config.h"
#include "core/csv.h"
#include "geometry/csg.h"
#include "geometry/error.h"
#include "geometry/factory.h"
#include "pinn/pde_library.h"
#include "pinn/reference.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <optional>
#include <set>

namespace physis::pinn {

namespace {

using config::ConfigError;
using config::Section;

// Parses an expression held in a YAML scalar; a mistake points at its line and column in the file.
Expression parse_at(const Section& node, const SymbolTable& symbols) {
  const auto text = node.as<std::string>();
  try {
    return Expression::parse(text, symbols);
  } catch (const ExpressionError& e) {
    auto [line, column] = node.location();
    const bool quoted = node.node().Tag() == "!";  // yaml-cpp tags quoted scalars "!"
    const std::string where = e.helper().empty() ? "" : " (in helper '" + e.helper() + "')";
    throw ConfigError(node.origin(), line,
                      e.helper().empty() ? column + (quoted ? 1 : 0) + e.column() - 1 : column,
                      e.problem() + where + "; " + e.hint());
  }
}

Expression parse_key(const Section& s, const std::string& key, const SymbolTable& symbols) {
  s.get<std::string>(key);  // marks the key read; a missing key is an error at the section
  return parse_at(s.child(key), symbols);
}

// An expression that must be fixed data (a predicate, a weight, an exact solution, hard or flux data): an unknown
// in it is an error at its key.
Expression parse_fixed(const Section& s, const std::string& key, const SymbolTable& symbols, const std::string& what) {
  auto e = parse_key(s, key, symbols);
  if (!e.unknowns().empty())
    s.fail_at(key, what + " is fixed data and cannot name the unknown '" + e.unknowns().front() +
                       "'; unknowns go into equations and soft conditions");
  return e;
}

std::string expression_text(const Section& s, const std::string& key) {
  return s.get<std::string>(key);
}

ConditionKind parse_kind(const Section& s) {
  static const std::map<std::string, ConditionKind> kinds{
      {"dirichlet", ConditionKind::dirichlet}, {"neumann", ConditionKind::neumann},
      {"robin", ConditionKind::robin},         {"residual", ConditionKind::residual},
      {"initial", ConditionKind::initial},     {"initial_rate", ConditionKind::initial_rate},
      {"point", ConditionKind::point},         {"periodic", ConditionKind::periodic},
      {"flux", ConditionKind::flux},           {"data", ConditionKind::data}};
  const auto type = s.get<std::string>("type");
  auto it = kinds.find(type);
  if (it == kinds.end())
    s.fail_at("type", "unknown condition type '" + type +
                          "'; expected dirichlet, neumann, robin, residual, initial, initial_rate, point, periodic, "
                          "flux or data");
  return it->second;
}

// Where on the boundary: pieces by name (`on: outer` or a list) and/or a predicate (`where: "x == 0"`); with
// neither, the whole boundary. Returns the selection as text for names and messages.
std::string parse_selector(const Section& s, const Problem& p, geometry::BoundarySelector& selector) {
  std::string where;
  if (s.has("on")) {
    if (s.node()["on"].IsSequence())
      selector.pieces = s.get<std::vector<std::string>>("on");
    else
      selector.pieces = {s.get<std::string>("on")};
    const auto known = p.domain->boundary_names();
    for (const auto& piece : selector.pieces)
      if (std::find(known.begin(), known.end(), piece) == known.end())
        s.fail_at("on", "no boundary piece named '" + piece + "'; this geometry's pieces: " + join(known));
    where = join(selector.pieces, "+");
  }
  if (s.has("where")) {
    auto predicate = parse_fixed(s, "where", p.symbols, "a `where` predicate");
    selector.predicate = [predicate](const torch::Tensor& x) { return evaluate_on_points(predicate, x) != 0; };
    where += (where.empty() ? "" : "&") + std::string("where");
  }
  return where.empty() ? "boundary" : where;
}

IntegralSpec parse_integral(const Section& s, const Problem& p) {
  IntegralSpec integral;
  integral.name = s.get<std::string>("name");
  if (integral.name.empty() || integral.name.find_first_of(" ,\"") != std::string::npos)
    s.fail_at("name", "an integral's name must be one word (it names a column of history.csv)");
  if (p.transient()) s.fail("boundary integrals are for steady problems (a transient one would need a time)");
  parse_selector(s, p, integral.selector);
  integral.integrand = parse_key(s, "expression", p.symbols);
  integral.points = s.get<int64_t>("points", integral.points);
  if (integral.points < 100) s.fail_at("points", "an integral needs at least 100 points");
  integral.reference = s.get_optional<double>("reference");
  s.finish();
  return integral;
}

// The observations of a data condition: a random subset of `points` rows (all: 0), with Gaussian noise of
// c.noise times each output's standard deviation (Raissi et al.'s noisy data), drawn from c.data_seed.
void finish_data(const Section& s, Condition& c, torch::Tensor x, torch::Tensor values) {
  geometry::Sampler random(geometry::SamplerOptions().seed(c.data_seed), torch::kFloat64);
  if (c.points > 0) {
    if (c.points > x.size(0))
      s.fail_at("points", "the data has " + std::to_string(x.size(0)) + " points; ask for at most that many");
    const auto rows = random.permutation(x.size(0)).narrow(0, 0, c.points);
    x = x.index({rows});
    values = values.index({rows});
  }
  if (c.noise > 0) {
    const auto known = ~torch::isnan(values);
    const auto zeroed = torch::where(known, values, torch::zeros_like(values));
    const auto count = known.sum(0).clamp_min(1).to(torch::kFloat64);
    const auto mean = zeroed.sum(0) / count;
    const auto spread = (torch::where(known, values - mean, torch::zeros_like(values)).square().sum(0) / count).sqrt();
    values = values + c.noise * spread * random.normal(values.size(0), values.size(1));
  }
  c.at = x.contiguous();
  c.data = values.contiguous();
  c.points = x.size(0);
}

// Observations of some outputs (`type: data`): a table file read as `reference` files are (CSV, COMSOL text,
// columns; `file`, `format`, `inputs`, `outputs`, `columns`, `times`, `time`), or `from: exact`, `points` samples
// of reference.exact in the domain (filled in once the reference is read).
void parse_data_condition(const Section& s, Problem& p, Condition& c, std::size_t index) {
  const auto from = s.get<std::string>("from", "file");
  c.points = s.get<int64_t>("points", 0);
  if (c.points < 0) s.fail_at("points", "points must be positive (or absent: every row of the file)");
  c.noise = s.get<double>("noise", 0.0);
  if (!(c.noise >= 0)) s.fail_at("noise", "noise is a fraction of each output's standard deviation, 0 or more");
  c.data_seed = s.get<uint64_t>("seed", 0);
  c.name = s.get<std::string>("name", "data_" + std::to_string(index));
  auto output_indices = [&](const std::vector<std::string>& names) {
    for (const auto& name : names) {
      const auto j = p.output_index(name);
      if (j < 0) s.fail_at("outputs", "unknown output '" + name + "'; this problem's outputs: " + join(p.symbols.outputs));
      c.data_outputs.push_back(j);
    }
  };
  if (from == "exact") {
    if (c.points == 0) s.fail_at("from", "`from: exact` draws `points` points in the domain; say how many");
    output_indices(s.get<std::vector<std::string>>("outputs", p.symbols.outputs));
    c.data_from_exact = true;
    s.finish();
    return;
  }
  if (from != "file") s.fail_at("from", "from must be file (the default, with `file:`) or exact");
  const auto table = load_reference(s, p.symbols.inputs, p.symbols.outputs);  // reads the table's keys, finish()
  torch::Tensor points;
  try {
    points = table.points_in(p.symbols.inputs);
  } catch (const std::out_of_range& e) {
    s.fail_at("file", std::string("the data has ") + e.what());
  }
  output_indices(table.outputs);
  if (table.size() == 0) s.fail_at("file", "the data file holds no rows");
  finish_data(s, c, points, table.values);
}

// `unknowns: {name: initial}` or `{name: {initial, positive, reference}}`: scalars trained with the network.
void parse_unknowns(const Section& root, Problem& p) {
  auto section = root.optional_child("unknowns");
  if (!section) return;
  for (const auto& key : section->keys()) {
    UnknownSpec spec;
    if (section->node()[key].IsMap()) {
      auto item = section->child(key);
      spec.initial = item.get<double>("initial");
      spec.positive = item.get<bool>("positive", false);
      spec.reference = item.get_optional<double>("reference");
      if (spec.positive && !(spec.initial > 0))
        item.fail_at("initial", "a positive unknown needs a positive initial value");
      item.finish();
    } else {
      spec.initial = section->get<double>(key);
    }
    p.unknowns[key] = spec;
    auto raw = torch::scalar_tensor(spec.raw_initial(), torch::kFloat64);
    p.symbols.unknowns[key] = Unknown{raw.requires_grad_(true), spec.positive};
  }
  section->finish();
}

// Data conditions `from: exact`: their points drawn in the domain and the exact solution's values there.
void resolve_exact_data(const Section& root, Problem& p) {
  for (std::size_t i = 0; i < p.conditions.size(); ++i) {
    auto& c = p.conditions[i];
    if (!c.data_from_exact) continue;
    const auto item = root.items("conditions")[i];
    geometry::Sampler sampler(geometry::SamplerOptions().seed(c.data_seed), torch::kFloat64);
    const auto x = p.domain->sample_interior(c.points, sampler).to(torch::kFloat64);
    std::vector<torch::Tensor> values;
    for (auto j : c.data_outputs) {
      auto exact = p.exact.find(p.symbols.outputs[j]);
      if (exact == p.exact.end())
        item.fail_at("from", "`from: exact` needs reference.exact for output '" + p.symbols.outputs[j] + "'");
      values.push_back(evaluate_on_points(exact->second, x).reshape({-1}).expand({x.size(0)}).to(torch::kFloat64));
    }
    finish_data(item, c, x, torch::stack(values, 1));
  }
}

// `network.output_scale: auto`: each output observed by data conditions gets half its observations' range as scale
// and their midrange as shift (1 and 0 for the others), so that the raw network output spans [-1, 1] over the data,
// which may lie far from order one (a trajectory swinging by 20 around 25). Not the standard deviation: a trajectory
// that settles to a fixed point after a transient has a small one, and the raw output would have to reach several
// times it at the start (the Lorenz data: -6 at t = 0).
void auto_output_scale(const Section& network, Problem& p) {
  const int64_t m = p.num_outputs();
  std::vector<std::vector<torch::Tensor>> observed(m);
  for (const auto& c : p.conditions)
    if (c.kind == ConditionKind::data)
      for (std::size_t k = 0; k < c.data_outputs.size(); ++k) {
        const auto column = c.data.select(1, static_cast<int64_t>(k)).to(torch::kFloat64);
        observed[c.data_outputs[k]].push_back(column.index({~torch::isnan(column)}));
      }
  if (std::all_of(observed.begin(), observed.end(), [](const auto& v) { return v.empty(); }))
    network.fail_at("output_scale", "`output_scale: auto` takes the scales from the observations of `type: data` "
                                    "conditions, and this problem has none: give the scales as a map ({u: 10})");
  p.network.output_scale.assign(m, 1.0);
  p.network.output_shift.assign(m, 0.0);
  for (int64_t j = 0; j < m; ++j) {
    if (observed[j].empty()) continue;
    const auto values = torch::cat(observed[j]);
    if (values.numel() == 0) continue;
    const double low = values.min().item<double>(), high = values.max().item<double>();
    p.network.output_shift[j] = (low + high) / 2;
    if (high > low) p.network.output_scale[j] = (high - low) / 2;
  }
}

// Loss-term names label history.csv's columns and the scales of the balancing methods: each names one term.
void check_term_name(const Section& s, const Problem& p, const std::string& name) {
  const bool equation = std::find(p.equation_names.begin(), p.equation_names.end(), name) != p.equation_names.end();
  const bool condition =
      std::any_of(p.conditions.begin(), p.conditions.end(), [&](const Condition& c) { return c.name == name; });
  if (!equation && !condition) return;
  const auto message = "the loss term '" + name + "' already names " + (equation ? "an equation" : "a condition") +
                       "; give this one another `name:`";
  if (s.has("name")) s.fail_at("name", message);
  s.fail(message);
}

void parse_condition(const Section& s, Problem& p, std::size_t index) {
  Condition c;
  c.kind = parse_kind(s);
  c.weight = s.get<double>("weight", 1.0);
  if (c.kind == ConditionKind::data) {
    parse_data_condition(s, p, c, index);
    check_term_name(s, p, c.name);
    p.conditions.push_back(std::move(c));
    return;
  }
  c.hard = s.get<bool>("hard", false);
  const bool boundary = c.on_boundary();
  const bool initial = c.at_initial_time();
  if (initial && !p.transient()) s.fail_at("type", "an initial condition needs `time:` in the problem");
  if (c.hard && c.kind != ConditionKind::dirichlet && c.kind != ConditionKind::initial &&
      c.kind != ConditionKind::periodic)
    s.fail_at("hard", "only dirichlet, initial and periodic conditions can be imposed exactly (hard)");
  c.clamped = s.get<bool>("clamped", false);
  if (c.clamped && (!c.hard || (c.kind != ConditionKind::dirichlet && c.kind != ConditionKind::initial)))
    s.fail_at("clamped", "`clamped: true` holds the normal (or time) derivative of a hard dirichlet or initial "
                         "condition's value as well; add `hard: true`, or remove `clamped`");

  // The constrained output.
  std::string output = p.symbols.outputs.front();
  if (c.kind != ConditionKind::residual && c.kind != ConditionKind::periodic && c.kind != ConditionKind::flux) {
    output = s.get<std::string>("output", p.num_outputs() == 1 ? p.symbols.outputs.front() : std::string());
    if (output.empty()) s.fail("this problem has several outputs: say which one with `output:`");
    c.output = p.output_index(output);
    if (c.output < 0) s.fail_at("output", "unknown output '" + output + "'");
  }

  if (boundary || c.kind == ConditionKind::periodic) c.where = parse_selector(s, p, c.selector);

  const std::string& u = p.symbols.outputs[c.output];
  auto value_text = [&]() { return "(" + expression_text(s, "value") + ")"; };
  auto make = [&](const std::string& text) {
    // Residual text is built from the user's value; errors in it point at `value`.
    try {
      return Expression::parse(text, p.symbols);
    } catch (const ExpressionError& e) {
      s.fail_at("value", "in value: " + e.problem() + "; " + e.hint());
    }
  };
  switch (c.kind) {
    case ConditionKind::dirichlet:
    case ConditionKind::initial:
    case ConditionKind::point:
      c.value = parse_key(s, "value", p.symbols);
      c.residual = make(u + " - " + value_text());
      break;
    case ConditionKind::initial_rate:
      c.value = parse_key(s, "value", p.symbols);
      c.residual = make(u + "_t - " + value_text());
      break;
    case ConditionKind::neumann:
      parse_key(s, "value", p.symbols);
      c.residual = make("dn(" + u + ") - " + value_text());
      break;
    case ConditionKind::robin: {
      // alpha*u + beta*du/dn = value
      const double alpha = s.get<double>("alpha", 1.0), beta = s.get<double>("beta", 1.0);
      parse_key(s, "value", p.symbols);
      c.residual = make(std::to_string(alpha) + "*" + u + " + " + std::to_string(beta) + "*dn(" + u + ") - " +
                        value_text());
      break;
    }
    case ConditionKind::residual:
      c.residual = parse_key(s, "expression", p.symbols);
      break;
    case ConditionKind::flux: {
      // The integral of `expression` over cross-sections x_axis = c equals `value`, e.g. the mass flow through a
      // channel (PhysicsNeMo's integral continuity planes).
      const auto axis = s.get<std::string>("across");
      const auto spatial = p.space->dim();
      auto it = std::find(p.symbols.inputs.begin(), p.symbols.inputs.begin() + spatial, axis);
      if (it == p.symbols.inputs.begin() + spatial)
        s.fail_at("across", "'" + axis + "' is not a spatial input; the cross-sections are perpendicular to one of " +
                                join(std::vector<std::string>(p.symbols.inputs.begin(),
                                                              p.symbols.inputs.begin() + spatial)));
      c.axis = it - p.symbols.inputs.begin();
      if (spatial < 2) s.fail_at("across", "a flux through cross-sections needs at least two spatial dimensions");
      c.residual = parse_key(s, "expression", p.symbols);
      c.value = parse_fixed(s, "value", p.symbols, "a flux condition's value");
      const auto box = p.space->bounding_box();
      auto range = s.get<std::vector<double>>("range", {box.lower[c.axis], box.upper[c.axis]});
      if (range.size() != 2 || !(range[0] <= range[1]) || range[0] < box.lower[c.axis] ||
          range[1] > box.upper[c.axis])
        s.fail_at("range", "range must be [low, high] within the domain's extent along '" + axis + "' (" +
                               format_number(box.lower[c.axis]) + " to " + format_number(box.upper[c.axis]) + ")");
      c.range_lower = range[0];
      c.range_upper = range[1];
      c.planes = s.get<int64_t>("planes", 16);
      if (c.planes <= 0) s.fail_at("planes", "planes must be positive");
      break;
    }
    case ConditionKind::periodic: {
      const auto axis = s.get<std::string>("axis");
      auto it = std::find(p.symbols.inputs.begin(), p.symbols.inputs.end(), axis);
      if (it == p.symbols.inputs.end()) s.fail_at("axis", "unknown input '" + axis + "'");
      c.axis = it - p.symbols.inputs.begin();
      if (c.hard) {
        // The network itself is periodic along the axis: every output and derivative agrees on both sides.
        if (s.has("match")) s.fail_at("match", "a hard periodic condition matches every output and derivative; "
                                               "remove `match`");
        if (s.has("on") || s.has("where"))
          s.fail_at(s.has("on") ? "on" : "where", "a hard periodic condition holds on the whole axis; remove it");
        break;
      }
      for (const auto& q : s.items("match")) c.periodic_terms.push_back(parse_at(q, p.symbols));
      if (c.periodic_terms.empty()) s.fail_at("match", "list what must agree on both sides, e.g. [u, u_x]");
      c.residual = c.periodic_terms.front();
      break;
    }
    case ConditionKind::data: break;  // parse_data_condition
  }
  if (c.hard && c.value && !c.value->unknowns().empty())
    s.fail_at("value", "a hard condition's value is fixed data and cannot name the unknown '" +
                           c.value->unknowns().front() + "'; make the condition soft");
  if (c.kind == ConditionKind::point) {
    auto rows = s.get<std::vector<std::vector<double>>>("at");
    std::vector<double> flat;
    for (const auto& r : rows) {
      if (static_cast<int64_t>(r.size()) != p.num_inputs())
        s.fail_at("at", "each point needs " + std::to_string(p.num_inputs()) + " coordinates");
      flat.insert(flat.end(), r.begin(), r.end());
    }
    c.at = torch::tensor(flat, torch::kFloat64).reshape({static_cast<int64_t>(rows.size()), p.num_inputs()});
  }
  const bool flux = c.kind == ConditionKind::flux;  // `points` per cross-section, not from the training section
  c.default_points = !s.has("points") && !flux;
  c.points = s.get<int64_t>("points", flux ? 256 : initial ? p.sampling.initial_points : p.sampling.boundary_points);
  if (c.points <= 0) s.fail_at("points", "points must be positive");
  static const char* kind_names[] = {"dirichlet", "neumann", "robin", "residual", "initial", "initial_rate",
                                     "point", "periodic", "flux"};
  c.name = s.get<std::string>("name", std::string(kind_names[static_cast<int>(c.kind)]) + "_" +
                                          (flux ? p.symbols.inputs[c.axis] : u) +
                                          (c.where.empty() ? "" : "_" + c.where) + "_" + std::to_string(index));
  check_term_name(s, p, c.name);
  s.finish();
  p.conditions.push_back(std::move(c));
}

// Hard conditions of one output are either one condition on the whole boundary (no `on`) or the whole initial
// slice, or Dirichlet conditions on named pieces, each piece once: their data is blended by transfinite
// interpolation, which needs the geometry's per-piece distances. Pieces they leave out need a soft condition.
void check_hard_conditions(const Section& root, const Problem& p) {
  const auto items = root.has("conditions") ? root.items("conditions") : std::vector<Section>{};
  std::map<int64_t, std::size_t> periodic;  // axis -> its hard periodic condition
  for (std::size_t i = 0; i < p.conditions.size(); ++i) {
    const auto& c = p.conditions[i];
    if (c.hard_periodic() && !periodic.emplace(c.axis, i).second)
      items[i].fail_at("axis", "axis '" + p.symbols.inputs[c.axis] + "' already has a hard periodic condition");
  }
  for (int64_t j = 0; j < p.num_outputs(); ++j) {
    const auto& output = p.symbols.outputs[j];
    std::vector<std::size_t> hard;
    for (std::size_t i = 0; i < p.conditions.size(); ++i)
      if (p.conditions[i].hard_data() && p.conditions[i].output == j) hard.push_back(i);
    for (auto i : hard)
      if (p.conditions[i].selector.predicate)
        items[i].fail_at("where", "a hard condition selects its part of the boundary by name (`on: top`), not by "
                                  "a predicate; name the piece (geometry `boundary:` renames) or make it soft");
    if (hard.empty() || (hard.size() == 1 && p.conditions[hard[0]].selector.pieces.empty())) continue;
    for (auto i : hard) {
      if (p.conditions[i].kind == ConditionKind::initial)
        items[i].fail_at("hard", "output '" + output + "' has a hard initial condition and hard Dirichlet "
                                 "conditions; together they are not supported: make one of them soft");
      if (p.conditions[i].selector.pieces.empty())
        items[i].fail_at("hard", "output '" + output + "' has several hard conditions, so each needs `on:` with "
                                 "the boundary pieces it holds on (this one has none)");
    }
    std::map<std::string, std::size_t> owner;  // piece -> the condition holding its data
    for (auto i : hard)
      for (const auto& piece : p.conditions[i].selector.pieces) {
        auto [it, inserted] = owner.emplace(piece, i);
        if (!inserted && it->second != i)
          items[i].fail_at("on", "piece '" + piece + "' already has hard data for output '" + output +
                                     "' (condition " + std::to_string(it->second + 1) +
                                     "); give each piece to one hard condition");
      }
    // Pieces without hard data are left free by the output transform: each needs a soft boundary condition (say
    // an outflow condition), or the output would be unconstrained there.
    auto soft_covers = [&](const std::string& piece) {
      for (const auto& c : p.conditions) {
        if (!c.on_boundary() || c.hard) continue;
        const auto& on = c.selector.pieces;
        if (on.empty() || std::find(on.begin(), on.end(), piece) != on.end()) return true;
      }
      return false;
    };
    std::vector<std::string> uncovered;
    for (const auto& name : p.domain->boundary_names())
      if (!owner.count(name) && !soft_covers(name)) uncovered.push_back(name);
    if (!uncovered.empty())
      items[hard.back()].fail_at("on", "hard Dirichlet conditions on output '" + output +
                                           "' leave pieces without any condition: " + join(uncovered) +
                                           " (add them to a hard condition's `on`, give them a soft boundary "
                                           "condition, or make the conditions soft)");
    if (hard.size() == 1 && owner.size() == p.domain->boundary_names().size())
      continue;  // one condition on every piece: the domain's distance serves
    auto probe = torch::zeros({1, p.domain->dim()}, torch::kFloat64);
    for (auto i : hard) try {
        p.domain->piece_distance(probe, p.conditions[i].selector.pieces);
      } catch (const geometry::GeometryError& e) {
        items[i].fail_at("on", e.what());
      }
  }
}

// The geometry under `key` of `s`; a mistake the geometry layer finds points at that key's line.
geometry::GeometryPtr geometry_at(const Section& s, const std::string& key) {
  try {
    return geometry::geometry_from_config(s.child(key));
  } catch (const geometry::GeometryError& e) {
    auto [line, column] = s.location_of(key);
    throw ConfigError(s.origin_of(key), line, column, e.what());
  }
}

// One `training.refine` item: {region: <geometry>, points: N}. The region is any spatial shape of the geometry
// section's kinds; its points are drawn where it meets the domain (over the whole time interval when there is one).
RefineSpec parse_refine(const Section& item, const Problem& p) {
  RefineSpec r;
  r.points = item.get<int64_t>("points");
  if (r.points <= 0) item.fail_at("points", "`points` must be positive");
  auto region = geometry_at(item, "region");
  if (region->dim() != p.space->dim())
    item.fail_at("region", "the region has " + std::to_string(region->dim()) + " dimensions but the geometry has " +
                               std::to_string(p.space->dim()));
  // Drawn from the region, kept inside the domain: the region is usually the small one.
  auto part = geometry::csg_intersection(region, p.space);
  try {
    geometry::Sampler probe(geometry::SamplerOptions().kind(geometry::SamplerKind::random), torch::kFloat64);
    part->sample_interior(1, probe);
  } catch (const geometry::GeometryError&) {
    item.fail_at("region", "the region does not overlap the domain: no point of it lies inside the geometry");
  }
  r.domain = p.space_time ? std::make_shared<geometry::SpaceTime>(part, p.space_time->t0(), p.space_time->t1())
                          : part;
  item.finish();
  return r;
}

}  // namespace

int64_t Problem::output_index(const std::string& name) const {
  auto it = std::find(symbols.outputs.begin(), symbols.outputs.end(), name);
  return it == symbols.outputs.end() ? -1 : it - symbols.outputs.begin();
}

void Problem::override_points(int64_t interior, int64_t boundary, int64_t initial) {
  if (interior > 0) sampling.interior_points = interior;
  if (boundary > 0) sampling.boundary_points = boundary;
  if (initial > 0) sampling.initial_points = initial;
  for (auto& c : conditions) {
    if (!c.default_points) continue;
    c.points = c.at_initial_time() ? sampling.initial_points : sampling.boundary_points;
  }
}

Problem Problem::load(const std::string& path) { return from_section(Section::load_file(path)); }

Problem Problem::from_section(const Section& root) {
  Problem p;
  p.file = root.file();
  p.name = root.get<std::string>("name", std::filesystem::path(p.file).stem().string());
  root.get<std::string>("description", "");

  // 1. Geometry and time.
  p.space = geometry_at(root, "geometry");
  p.domain = p.space;
  if (root.has("time")) {
    auto t = root.get<std::vector<double>>("time");
    if (t.size() != 2 || !(t[1] > t[0])) root.fail_at("time", "time must be [t0, t1] with t1 > t0");
    p.space_time = std::make_shared<geometry::SpaceTime>(p.space, t[0], t[1]);
    p.domain = p.space_time;
  }

  // 2. Inputs, outputs, parameters, helpers.
  auto coordinates = p.domain->coordinate_names();
  p.symbols.inputs = root.get<std::vector<std::string>>("inputs", coordinates);
  if (p.symbols.inputs.size() != coordinates.size())
    root.fail_at("inputs", "the geometry has " + std::to_string(coordinates.size()) + " coordinates (" +
                               std::to_string(p.space->dim()) + " in space" + (p.transient() ? " plus time" : "") +
                               ")");
  p.symbols.spatial_inputs.assign(p.symbols.inputs.begin(), p.symbols.inputs.begin() + p.space->dim());
  for (const auto& s : p.symbols.spatial_inputs) p.symbols.extras.push_back("n_" + s);

  parse_unknowns(root, p);
  std::set<std::string> unknown_names;
  for (const auto& [name, spec] : p.unknowns) unknown_names.insert(name);
  std::optional<BuiltinPde> builtin;
  const auto pde = root.optional_child("pde");
  if (pde) builtin = builtin_pde(*pde, p.symbols.spatial_inputs, unknown_names);
  if (builtin && builtin->transient && !p.transient())
    root.fail_at("pde", "this PDE is time-dependent: add `time: [t0, t1]`");
  p.symbols.outputs = root.get<std::vector<std::string>>("outputs", builtin ? builtin->outputs : std::vector<std::string>{"u"});
  if (builtin) p.symbols.parameters = builtin->parameters;
  if (auto params = root.optional_child("parameters")) {
    for (const auto& key : params->keys()) {
      if (p.unknowns.count(key))
        params->fail_at(key, "'" + key + "' is also declared under `unknowns:`; a name is either fixed or found");
      p.symbols.parameters[key] = params->get<double>(key);
    }
  }
  if (auto helpers = root.optional_child("helpers")) {
    for (const auto& key : helpers->keys()) p.symbols.helpers[key] = expression_text(*helpers, key);
  }
  // Unknowns' names against the other symbols (parameters are checked where they are read).
  auto taken = [&](const std::string& name) -> std::string {
    const auto& s = p.symbols;
    auto listed = [&](const std::vector<std::string>& names) {
      return std::find(names.begin(), names.end(), name) != names.end();
    };
    if (listed(s.inputs)) return "an input";
    if (listed(s.extras) || name == "pi" || name == "e") return "an input or a constant";
    if (listed(s.outputs)) return "an output";
    if (s.helpers.count(name)) return "a helper";
    return "";
  };
  for (const auto& [name, spec] : p.unknowns)
    if (const auto what = taken(name); !what.empty())
      root.child("unknowns").fail_at(name, "'" + name + "' already names " + what + "; pick another name");

  // 3. Equations: a built-in PDE and/or residuals written out.
  if (builtin)
    for (std::size_t i = 0; i < builtin->residuals.size(); ++i) {
      try {
        p.equations.push_back(Expression::parse(builtin->residuals[i], p.symbols));
      } catch (const ExpressionError& e) {  // a mistake in the file's source term: point at it
        if (pde->has("source")) parse_key(*pde, "source", p.symbols);
        pde->fail("in the residual '" + builtin->residuals[i] + "' of the built-in PDE: " + e.problem() + "; " +
                  e.hint());
      }
      p.equation_names.push_back(builtin->names[i]);
      p.equation_weights.push_back(builtin->weights[i]);
    }
  if (root.has("equations")) {
    for (const auto& item : root.items("equations")) {
      if (item.is_scalar()) {
        p.equations.push_back(parse_at(item, p.symbols));
        p.equation_names.push_back("eq" + std::to_string(p.equation_names.size()));
        p.equation_weights.push_back(1.0);
      } else {
        p.equations.push_back(parse_key(item, "residual", p.symbols));
        const auto name = item.get<std::string>("name", "eq" + std::to_string(p.equation_names.size()));
        check_term_name(item, p, name);
        p.equation_names.push_back(name);
        p.equation_weights.push_back(item.get<double>("weight", 1.0));
        item.finish();
      }
    }
  }
  if (p.equations.empty()) root.fail("no equations: give `pde: {name: ...}` or `equations: [residual, ...]`");

  // 4. Training and sampling (needed before conditions for their default point counts).
  auto training = root.optional_child("training");
  if (training) {
    p.trainer = TrainerOptions::from_config(*training);
    p.sampling.interior_points = training->get<int64_t>("interior_points", p.sampling.interior_points);
    p.sampling.boundary_points = training->get<int64_t>("boundary_points", p.sampling.boundary_points);
    p.sampling.initial_points = training->get<int64_t>("initial_points", p.sampling.initial_points);
    p.sampling.resample_every = training->get<int64_t>("resample_every", 0);
    if (training->has("interior_weight"))
      p.sampling.interior_weight = parse_fixed(*training, "interior_weight", p.symbols, "interior_weight");
    if (training->has("refine"))
      for (const auto& item : training->items("refine")) p.sampling.refine.push_back(parse_refine(item, p));
    try {
      p.sampling.sampler = geometry::parse_sampler_kind(training->get<std::string>("sampler", "random"));
      p.derivatives = parse_derivative_mode(training->get<std::string>("derivatives", "auto"));
    } catch (const std::exception& e) {
      training->fail(e.what());
    }
    if (training->has("adaptive")) {
      for (const auto& item : training->items("adaptive")) {
        check_adaptive_method(item, p.sampling.resample_every > 0, p.transient());
        p.adaptive.push_back(item);
      }
    }
    if (auto sdgd = training->optional_child("sdgd")) {
      p.sampling.stochastic_laplacian = StochasticLaplacian::from_config(*sdgd);
      try {
        ResidualEvaluator(p.equations, p.derivatives).set_stochastic_laplacian(*p.sampling.stochastic_laplacian);
      } catch (const std::invalid_argument& e) {
        training->fail_at("sdgd", e.what());
      }
    }
    p.runtime.seed(training->get<uint64_t>("seed", 0));
    p.runtime.device(training->get<std::string>("device", "auto"));
    p.runtime.dtype(training->get<std::string>("dtype", "float32"));
    training->finish();
  } else {
    p.trainer.phases({PhaseOptions().optimizer("adam").steps(20000).lr(1e-3)});
  }

  // 5. Conditions.
  if (root.has("conditions")) {
    std::size_t i = 0;
    for (const auto& item : root.items("conditions")) parse_condition(item, p, i++);
  }
  check_hard_conditions(root, p);

  // 6. Network.
  std::optional<Section> auto_scale;  // `output_scale: auto`: resolved once the data are read
  if (auto net = root.optional_child("network")) {
    p.network.hidden = net->get<std::vector<int64_t>>("hidden", p.network.hidden);
    try {
      p.network.activation = parse_activation(net->get<std::string>("activation", "tanh"));
    } catch (const std::invalid_argument& e) {
      net->fail_at("activation", e.what());
    }
    // output_scale / output_shift: {output: number}, the others 1 and 0.
    auto per_output = [&](const std::string& key, double fallback) {
      std::vector<double> values;
      auto section = net->optional_child(key);
      if (!section) return values;
      values.assign(p.num_outputs(), fallback);
      for (const auto& name : section->keys()) {
        const auto j = p.output_index(name);
        if (j < 0) section->fail_at(name, "unknown output '" + name + "'; this problem's outputs: " + join(p.symbols.outputs));
        values[j] = section->get<double>(name);
        if (key == "output_scale" && !(values[j] != 0 && std::isfinite(values[j])))
          section->fail_at(name, "a scale must be finite and not 0");
      }
      section->finish();
      return values;
    };
    if (net->has("output_scale") && net->child("output_scale").is_scalar()) {
      if (net->get<std::string>("output_scale") != "auto")
        net->fail_at("output_scale", "`output_scale` is a map of scales per output ({u: 10}) or `auto`");
      if (net->has("output_shift"))
        net->fail_at("output_shift", "`output_scale: auto` sets the shifts too (each observed output's midrange); "
                                     "remove `output_shift`, or give both as maps");
      auto_scale = *net;
    } else {
      p.network.output_scale = per_output("output_scale", 1.0);
    }
    p.network.output_shift = per_output("output_shift", 0.0);
    p.network.fourier_features = net->get<int64_t>("fourier_features", 0);
    p.network.fourier_sigma = net->get<double>("fourier_sigma", 1.0);
    if (auto box = net->optional_child("input_box")) {
      auto corner = [&](const std::string& key) {
        auto v = box->get<std::vector<double>>(key);
        if (static_cast<int64_t>(v.size()) != p.num_inputs())
          box->fail_at(key, "needs one value per input (" + std::to_string(p.num_inputs()) + ": " +
                                join(p.symbols.inputs) + ")");
        return v;
      };
      p.network.input_lower = corner("min");
      p.network.input_upper = corner("max");
      for (std::size_t i = 0; i < p.network.input_lower.size(); ++i)
        if (!(p.network.input_lower[i] < p.network.input_upper[i]))
          box->fail_at("max", "max must exceed min on every input ('" + p.symbols.inputs[i] + "' does not)");
      for (const auto& c : p.conditions)
        if (c.hard_periodic())
          net->fail_at("input_box", "a hard periodic condition takes its period from the domain's bounding box; "
                                    "drop input_box or make the condition soft");
      box->finish();
    }
    net->finish();
  }

  // 7. Reference and output.
  if (auto ref = root.optional_child("reference")) {
    if (ref->has("exact")) {
      auto exact = ref->child("exact");
      for (const auto& key : exact.keys()) {
        if (p.output_index(key) < 0) exact.fail_at(key, "unknown output '" + key + "'");
        p.exact.emplace(key, parse_fixed(exact, key, p.symbols, "an exact solution"));
      }
      exact.mark_all_read();
      ref->finish();
    } else {
      p.reference_file = *ref;  // read by the reference loader, which checks its keys
    }
  }
  if (auto out = root.optional_child("output")) {
    p.output.grid = out->get<std::vector<int64_t>>("grid", {});
    p.output.times = out->get<int64_t>("times", p.output.times);
    p.output.plots = out->get<bool>("plots", true);
    if (out->has("integrals"))
      for (const auto& item : out->items("integrals")) {
        p.output.integrals.push_back(parse_integral(item, p));
        for (std::size_t k = 0; k + 1 < p.output.integrals.size(); ++k)
          if (p.output.integrals[k].name == p.output.integrals.back().name)
            item.fail_at("name", "a second integral named '" + p.output.integrals.back().name + "'");
      }
    out->finish();
  }
  resolve_exact_data(root, p);
  if (auto_scale) auto_output_scale(*auto_scale, p);
  if (p.output.grid.empty()) p.output.grid.assign(p.space->dim(), p.space->dim() == 3 ? 41 : 101);
  if (static_cast<int64_t>(p.output.grid.size()) != p.space->dim())
    root.fail_at("output", "output.grid needs one count per spatial axis");
  root.finish();
  return p;
}

}  // namespace physis::pinn
