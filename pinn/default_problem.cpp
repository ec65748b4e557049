#include "pinn/default_problem.h"

#include "core/diff.h"
#include "core/taylor.h"
#include "pinn/field_output.h"
#include "pinn/plots.h"
#include "pinn/reference.h"

#include <numbers>

namespace physis::pinn {

namespace {
constexpr double pi = std::numbers::pi;
}

DefaultPoisson::DefaultPoisson(DefaultPoissonOptions options, const Runtime& runtime)
    : options_(std::move(options)), runtime_(runtime) {
  std::vector<int64_t> widths{2};
  widths.insert(widths.end(), options_.hidden().begin(), options_.hidden().end());
  widths.push_back(1);
  net_ = FieldNetwork(FieldNetworkOptions(MLPOptions(widths)).input_lower({0, 0}).input_upper({1, 1}));
  net_->to(runtime_.device, runtime_.dtype);

  const auto opts = runtime_.options();
  interior_ = torch::rand({options_.interior_points(), 2}, opts);  // [Ni, 2]
  // Boundary: a uniform coordinate along a random edge of the square.
  const int64_t nb = options_.boundary_points();
  auto t = torch::rand({nb}, opts);
  auto edge = torch::randint(0, 4, {nb}, torch::TensorOptions().dtype(torch::kLong).device(runtime_.device));
  auto fixed = (edge % 2).to(runtime_.dtype);      // edges 0,2: coordinate 0; edges 1,3: coordinate 1
  auto vertical = (edge >= 2);                     // edges 2,3 are x = const
  auto x = torch::where(vertical, fixed, t);
  auto y = torch::where(vertical, t, fixed);
  boundary_ = torch::stack({x, y}, 1);             // [Nb, 2]
  source_values_ = source(interior_);              // [Ni]
}

torch::Tensor DefaultPoisson::exact(const torch::Tensor& x) const {
  return torch::sin(pi * x.select(1, 0)) * torch::sin(pi * x.select(1, 1));
}

torch::Tensor DefaultPoisson::source(const torch::Tensor& x) const { return 2 * pi * pi * exact(x); }

LossTerms DefaultPoisson::loss(int64_t) {
  torch::Tensor laplacian;
  if (options_.taylor()) {
    auto jet = net_->forward_jet(Jet::along_axes(interior_, {}, /*summed=*/true));
    laplacian = jet.second_sum().select(1, 0);  // [Ni]
  } else {
    auto x = interior_.detach().requires_grad_(true);
    Derivatives d(x, net_->forward(x));
    laplacian = d.laplacian(0);
  }
  auto residual = -laplacian - source_values_;
  auto ub = net_->forward(boundary_).select(1, 0);
  return {{"pde", residual.square().mean()}, {"bc", ub.square().mean()}};
}

EvaluationGrid DefaultPoisson::output_grid() const {
  return make_grid(geometry::BoundingBox{{0, 0}, {1, 1}}, {options_.grid(), options_.grid()});
}

Metrics DefaultPoisson::evaluate() {
  torch::NoGradGuard no_grad;
  auto x = output_grid().points.to(runtime_.options());
  return {{"l2re_u", relative_l2(net_->forward(x).select(1, 0), exact(x))}};
}

TrainerOptions DefaultPoisson::trainer_options(const std::string& output_dir) const {
  std::vector<PhaseOptions> phases{
      PhaseOptions().optimizer("adam").steps(options_.steps()).lr(options_.lr()).schedule("cosine")};
  if (options_.lbfgs_steps() > 0) phases.push_back(PhaseOptions().optimizer("lbfgs").steps(options_.lbfgs_steps()));
  return TrainerOptions()
      .phases(phases)
      .output_dir(output_dir)
      .label("poisson2d");
}

void DefaultPoisson::write_fields(const std::filesystem::path& folder) {
  torch::NoGradGuard no_grad;
  auto grid = output_grid();
  auto x = grid.points.to(runtime_.options());
  FieldSet fields{grid.points, {"x", "y"}, {"u"}, net_->forward(x).to(torch::kFloat64),
                  exact(x).unsqueeze(1).to(torch::kFloat64)};
  write_grid_fields(folder, "solution", grid, fields);  // solution.vti for ParaView, solution.csv
  plot_fields(folder, "solution", grid, fields);         // solution_u.png: prediction, exact, error
  plot_loss_history(folder / "history.csv", folder / "loss.png");
}

}  // namespace physis::pinn
