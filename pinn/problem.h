// A PINN problem as a problem file describes it: geometry, inputs/outputs, parameters, equations, conditions,
// network, training, reference and output. Reference of every key: docs/problem-files.md.
//
//   auto problem = physis::pinn::Problem::load("problems/poisson2d_c.yaml");
#pragma once

#include "core/config.h"
#include "core/network.h"
#include "core/runtime.h"
#include "core/trainer.h"
#include "geometry/geometry.h"
#include "geometry/sampler.h"
#include "geometry/selection.h"
#include "geometry/space_time.h"
#include "pinn/expression.h"
#include "pinn/residual.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace physis::pinn {

enum class ConditionKind { dirichlet, neumann, robin, residual, initial, initial_rate, point, periodic, flux, data };

struct Condition {
  std::string name;       // loss-term name, e.g. "dirichlet_u_outer"
  ConditionKind kind = ConditionKind::dirichlet;
  geometry::BoundarySelector selector;  // boundary conditions: where
  std::string where;                    // the selection as written, for messages
  int64_t output = 0;                   // the constrained output (dirichlet/neumann/robin/initial/point)
  Expression residual;                  // zero where the condition holds (soft form)
  std::optional<Expression> value;      // the prescribed data as an expression of the inputs (hard form)
  int64_t points = 0;                   // collocation points for this condition
  bool default_points = false;          // points not given: the training section's boundary/initial count
  double weight = 1.0;
  bool hard = false;
  // Hard and clamped: u = value + phi^2 N, so the derivative along the normal (dirichlet) or in time (initial) is
  // the value expression's own there, as well as the value (no slip for a stream function, a clamped plate's
  // edge, a wave's initial velocity).
  bool clamped = false;
  torch::Tensor at;                     // point constraints: [P, d]
  int64_t axis = 0;                     // periodic: the periodic input
  std::vector<Expression> periodic_terms;  // periodic: quantities equal on both sides (u, u_x, ...)
  // flux: the integral of `residual` (the integrand) over cross-sections perpendicular to `axis`, at `planes`
  // positions drawn in [range_lower, range_upper] (and a time each for transient problems), each with `points`
  // points, must equal `value` (its mean over the cross-section's points inside the domain).
  int64_t planes = 0;
  double range_lower = 0, range_upper = 0;
  // data (observations): the outputs `data_outputs` are `data` [P, k] at the points `at` [P, d] (NaN: not
  // observed); the loss is the mean squared misfit over the observed entries.
  std::vector<int64_t> data_outputs;
  torch::Tensor data;
  bool data_from_exact = false;  // `from: exact`: drawn from reference.exact once the file is read
  double noise = 0;              // Gaussian noise added to the data, relative to each output's standard deviation
  uint64_t data_seed = 0;        // of the subset and the noise

  // Conditions on boundary points (selected by `on`/`where`) and on the initial slice.
  bool on_boundary() const {
    return kind == ConditionKind::dirichlet || kind == ConditionKind::neumann || kind == ConditionKind::robin ||
           kind == ConditionKind::residual;
  }
  bool at_initial_time() const { return kind == ConditionKind::initial || kind == ConditionKind::initial_rate; }
  // Imposed by the output transform (hard Dirichlet or initial data); a hard periodic condition is built into the
  // network's inputs instead.
  bool hard_data() const { return hard && kind != ConditionKind::periodic; }
  bool hard_periodic() const { return hard && kind == ConditionKind::periodic; }
};

// An unknown of an inverse problem (`unknowns:`): a scalar found by training with the network.
struct UnknownSpec {
  double initial = 0;
  bool positive = false;            // trained as log(value)
  std::optional<double> reference;  // the true value, when known: its relative error is reported
  double raw_initial() const { return positive ? std::log(initial) : initial; }  // the trained tensor's start
};

struct NetworkSpec {
  std::vector<int64_t> hidden = std::vector<int64_t>(5, 100);
  Activation activation = Activation::tanh;
  int64_t fourier_features = 0;
  double fourier_sigma = 1.0;
  // The box of inputs the network maps to [-1, 1] per axis (inputs in problem order, time last); empty: the
  // domain's bounding box. A box with equal sides centred on a small body keeps its scale where the box's long side
  // would squeeze it.
  std::vector<double> input_lower, input_upper;
  // Per output (output order): out = scale * raw + shift before hard conditions; empty: 1 and 0. With
  // `output_scale: auto` the loader sets them from the data conditions: half of each observed output's range over
  // its observations and its midrange, 1 and 0 for the others.
  std::vector<double> output_scale, output_shift;
};

// Extra interior points where the domain meets a region (e.g. around a body whose boundary layer decides its
// drag): drawn beside the uniform interior points, so that the residual loss weighs the region more.
struct RefineSpec {
  geometry::GeometryPtr domain;  // the part of the problem's domain (space-time for transient problems) to fill
  int64_t points = 0;
};

struct SamplingSpec {
  int64_t interior_points = 8192;
  int64_t boundary_points = 2048;
  int64_t initial_points = 2048;
  int64_t resample_every = 0;  // 0: fixed points
  geometry::SamplerKind sampler = geometry::SamplerKind::random;
  // Weight of each interior point in the residual losses, an expression of the inputs (e.g. to keep the
  // singular corners of a lid-driven cavity from dominating them); none: every point weighs 1.
  std::optional<Expression> interior_weight;
  std::vector<RefineSpec> refine;
  // Precision the collocation points are drawn in before conversion to the run's; none: the run's own. A run whose
  // phases change precision draws in its first precision throughout, so that the later phases train on the same
  // points (float32 draws are exact in float64; float64 draws would be a different set).
  std::optional<torch::Dtype> draw_dtype;
  // Stochastic Laplacian for high-dimensional equations (`training.sdgd`, pinn/sdgd.h); none: exact.
  std::optional<StochasticLaplacian> stochastic_laplacian;
};

// A boundary integral of a formula of the outputs, their derivatives and the normals (e.g. the drag on a body:
// the traction integrated over its wall), reported with the reference metrics.
struct IntegralSpec {
  std::string name;
  geometry::BoundarySelector selector;
  Expression integrand;
  int64_t points = 20000;            // quadrature points on the selection
  std::optional<double> reference;   // a published value: the relative error is reported too
};

struct OutputSpec {
  std::vector<int64_t> grid;  // points per spatial axis of the output grid
  int64_t times = 11;         // time slices written for transient problems
  bool plots = true;
  std::vector<IntegralSpec> integrals;
};

class Problem {
 public:
  // Parses and checks everything; mistakes are config::ConfigError naming file, line and column. With command-line
  // overrides: from_section(config::Section::load_file(path, overrides)).
  static Problem load(const std::string& path);
  static Problem from_section(const config::Section& root);

  std::string name;
  std::string file;
  geometry::GeometryPtr space;                      // the spatial domain
  std::shared_ptr<const geometry::SpaceTime> space_time;  // set for transient problems
  geometry::GeometryPtr domain;                     // space_time or space: what collocation points fill
  SymbolTable symbols;                              // inputs (space then t), outputs, parameters, helpers
  // Unknowns by name; their tensors are symbols.unknowns, shared by the expressions and by copies of the Problem
  // (a Solver built from it resets them to `initial` and trains them).
  std::map<std::string, UnknownSpec> unknowns;
  std::vector<Expression> equations;
  std::vector<std::string> equation_names;
  std::vector<double> equation_weights;
  std::vector<Condition> conditions;
  NetworkSpec network;
  SamplingSpec sampling;
  TrainerOptions trainer;
  DerivativeMode derivatives = DerivativeMode::automatic;
  RuntimeOptions runtime;
  std::map<std::string, Expression> exact;          // reference by exact solution, per output
  std::optional<config::Section> reference_file;    // reference by data file (the `reference` section)
  OutputSpec output;
  std::vector<config::Section> adaptive;            // `training.adaptive` items (pinn/adaptive.h), checked

  bool transient() const { return static_cast<bool>(space_time); }
  bool has_hard_data() const {  // some condition is imposed by the output transform
    return std::any_of(conditions.begin(), conditions.end(), [](const Condition& c) { return c.hard_data(); });
  }
  int64_t num_inputs() const { return static_cast<int64_t>(symbols.inputs.size()); }
  int64_t num_outputs() const { return static_cast<int64_t>(symbols.outputs.size()); }
  int64_t output_index(const std::string& name) const;  // -1 when unknown

  // Collocation counts from outside the file (`physis solve --interior-points ...`); a count given, when positive,
  // replaces the training section's, and the boundary/initial one also that of every condition without `points`.
  void override_points(int64_t interior, int64_t boundary, int64_t initial);
};

}  // namespace physis::pinn
