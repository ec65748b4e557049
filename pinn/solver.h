// Turns a Problem into a trainable PINN: network (with hard constraints as an output transform), collocation
// points, the loss terms, the reference comparison, and the results written after training.
#pragma once

#include "core/network.h"
#include "core/runtime.h"
#include "core/trainer.h"
#include "geometry/sampler.h"
#include "pinn/problem.h"
#include "pinn/field_output.h"
#include "pinn/residual.h"

#include <filesystem>
#include <map>
#include <memory>

namespace physis::pinn {

class Solver {
 public:
  Solver(Problem problem, const Runtime& runtime);

  FieldNetwork network() const { return net_; }
  const Problem& problem() const { return problem_; }
  LossTerms loss(int64_t step);
  // Relative L2 error and largest error per output against the reference, and the boundary integrals of
  // `output.integrals` (with their relative errors where a reference value is given).
  // The current values of the problem's unknowns (`unknowns:`) are reported too, with their relative errors where
  // the file gives the true value.
  Metrics evaluate();
  // Prediction, reference and error on the output grid (and time slices), as CSV and ParaView files.
  void write_results(const std::filesystem::path& folder);
  bool uses_taylor() const { return pde_->uses_taylor(); }
  // How often the jets of the hard conditions' data (forward mode) were computed afresh rather than reused for
  // points seen before; 0 without hard data or under `derivatives: autograd`.
  int64_t hard_jet_misses() const { return hard_jets_ ? hard_jets_->misses() : 0; }

  // The adaptive interface (pinn/adaptive.h): what training methods may read and change between steps.
  const torch::Tensor& interior() const { return interior_; }
  // Per-point weights of the PDE residual losses, [N, 1]; undefined: every point weighs 1.
  const torch::Tensor& interior_weights() const { return interior_weights_; }
  // Replaces the interior collocation points and their weights (undefined: 1 each). From then on the periodic
  // redraw (`resample_every`) draws new condition points only.
  void set_interior(torch::Tensor points, torch::Tensor weights = {});
  void set_interior_weights(torch::Tensor weights);
  // n fresh points drawn in the domain by the problem's sampler.
  torch::Tensor sample_interior(int64_t n);
  // PDE residuals at x: [N, equations]; without graph unless with_graph (then differentiable with respect to x
  // and the network).
  torch::Tensor residuals(const torch::Tensor& x, bool with_graph = false);
  // Multiplies loss term `name` (a name loss() returns) by factor from now on; 1 restores it.
  void set_term_scale(const std::string& name, double factor);
  std::vector<std::string> term_names() const;

  // Points where the problem's reference is known: [R, inputs] and [R, outputs] (NaN where not given).
  const torch::Tensor& reference_points() const { return reference_points_; }
  const torch::Tensor& reference_values() const { return reference_values_; }

 private:
  struct ConditionBatch {
    torch::Tensor x, x_other;                       // points; periodic: the matching points on the far side
    std::map<std::string, torch::Tensor> extras;    // normals n_x, ...
    std::unique_ptr<ResidualEvaluator> evaluator;
    // flux: the cross-section of each point, the prescribed flux of each cross-section, the measure of one point
    torch::Tensor plane, target;
    double measure = 0;
    // data: the observed outputs' columns, and 1 where a value is observed (target 0 elsewhere)
    torch::Tensor columns, observed;
  };
  // An integral's quadrature: points on its selection, their normals, and the weight of each (measure / count).
  struct IntegralQuadrature {
    torch::Tensor x;
    std::map<std::string, torch::Tensor> normals;
    double weight = 0;
    std::unique_ptr<ResidualEvaluator> evaluator;
  };
  void install_hard_constraints();
  void prepare_integrals();
  Metrics integrals();
  void sample();           // all points: draw_interior, then draw_conditions
  void draw_interior();    // the interior points (and refined regions); weights from `interior_weight`
  void draw_conditions();  // the soft conditions' points
  void sample_cross_sections(const Condition& c, ConditionBatch& b);
  void load_reference();
  std::vector<double> output_times() const;
  torch::Tensor output_points(const EvaluationGrid& grid) const;
  torch::Tensor exact_values(const torch::Tensor& x) const;  // [N, outputs], NaN where no exact solution

  Problem problem_;
  Runtime runtime_;
  FieldNetwork net_{nullptr};
  geometry::Sampler sampler_;
  std::unique_ptr<ResidualEvaluator> pde_;
  std::shared_ptr<FunctionJetCache> hard_jets_;  // set by install_hard_constraints where there is hard data
  torch::Tensor interior_;
  torch::Tensor interior_weights_;  // [N, 1] or undefined
  bool interior_placed_ = false;    // set_interior was called: the periodic redraw leaves the interior alone
  std::vector<ConditionBatch> batches_;
  std::vector<IntegralQuadrature> quadratures_;
  torch::Tensor reference_points_, reference_values_;
  std::map<std::string, double> term_scales_;
};

// The hard conditions' output transform out_j = g_j(x) + phi_j(x) N_j at points x [N, d]: [g_1..g_m, phi_1..phi_m]
// [N, 2m] (g = 0, phi = 1 for outputs without hard data; phi squared for a clamped condition).
torch::Tensor hard_transform_data(const Problem& problem, const torch::Tensor& x);

// Hard conditions whose transform holds the exact reference solution with a constant N at the given domain points:
// a value equal to the exact solution (N = 0; the value is evaluated inside the domain too), or an exact solution
// that is g + c phi (a clamped box's phi^2 = x^2 (1 - x)^2 y^2 (1 - y)^2 as the manufactured solution). The network
// then holds the answer without learning a field and the reference errors measure little; Solver warns about them.
// Names of the conditions of such outputs, in file order.
std::vector<std::string> hard_transforms_holding_exact(const Problem& problem, const torch::Tensor& points);

}  // namespace physis::pinn
