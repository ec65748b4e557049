#include "pinn/solver.h"

#include "core/checkpoint.h"
#include "core/csv.h"
#include "geometry/selection.h"
#include "pinn/reference.h"

#include <cmath>

namespace physis::pinn {

namespace {
torch::Tensor sum_of_squares_mean(const torch::Tensor& r) { return r.square().mean(); }
}  // namespace

Solver::Solver(Problem problem, const Runtime& runtime)
    : problem_(std::move(problem)),
      runtime_(runtime),
      sampler_(geometry::SamplerOptions().kind(problem_.sampling.sampler).seed(runtime.seed), runtime.options()) {
  const auto& p = problem_;
  // Network: inputs scaled from the domain's bounding box to [-1, 1].
  std::vector<int64_t> widths{p.num_inputs()};
  widths.insert(widths.end(), p.network.hidden.begin(), p.network.hidden.end());
  widths.push_back(p.num_outputs());
  auto box = p.domain->bounding_box();
  net_ = FieldNetwork(FieldNetworkOptions(MLPOptions(widths).activation(p.network.activation))
                          .input_lower(box.lower)
                          .input_upper(box.upper)
                          .fourier_features(p.network.fourier_features)
                          .fourier_sigma(p.network.fourier_sigma));
  net_->to(runtime_.device, runtime_.dtype);
  install_hard_constraints();

  pde_ = std::make_unique<ResidualEvaluator>(p.equations, p.derivatives);
  for (const auto& c : p.conditions) {
    ConditionBatch batch;
    auto terms = c.kind == ConditionKind::periodic ? c.periodic_terms : std::vector<Expression>{c.residual};
    batch.evaluator = std::make_unique<ResidualEvaluator>(terms, DerivativeMode::automatic);
    batches_.push_back(std::move(batch));
  }
  sample();
  load_reference();
}

void Solver::install_hard_constraints() {
  const auto& p = problem_;
  std::vector<const Condition*> hard(p.num_outputs(), nullptr);
  bool any = false;
  for (const auto& c : p.conditions)
    if (c.hard) hard[c.output] = &c, any = true;
  if (!any) return;
  auto problem = &problem_;
  // out_j = g_j(x) + phi_j(x) raw_j, with phi_j = 0 where the condition holds: the boundary's distance function
  // for Dirichlet data, t - t0 for initial data. Outputs without a hard condition keep g = 0, phi = 1.
  auto known = [problem, hard](const torch::Tensor& x) {
    std::vector<torch::Tensor> g, phi;
    for (std::size_t j = 0; j < hard.size(); ++j) {
      if (!hard[j]) {
        g.push_back(torch::zeros({x.size(0)}, x.options()));
        phi.push_back(torch::ones({x.size(0)}, x.options()));
        continue;
      }
      g.push_back(evaluate_on_points(*hard[j]->value, x));
      phi.push_back(hard[j]->kind == ConditionKind::initial ? problem->space_time->initial_distance(x)
                                                            : problem->domain->distance(x));
    }
    return torch::cat({torch::stack(g, 1), torch::stack(phi, 1)}, 1);  // [N, 2m]
  };
  const int64_t m = p.num_outputs();
  net_->set_output_transform(
      [known, m](const torch::Tensor& x, const torch::Tensor& raw) {
        auto gp = known(x);
        return gp.narrow(1, 0, m) + gp.narrow(1, m, m) * raw;
      },
      [known, m](const Jet& x, const Jet& raw) {
        auto gp = function_jet(known, x);
        return jet_add(jet_narrow(gp, 0, m), jet_mul(jet_narrow(gp, m, m), raw));
      });
}

void Solver::sample() {
  const auto& p = problem_;
  interior_ = p.domain->sample_interior(p.sampling.interior_points, sampler_).to(runtime_.options());
  for (std::size_t i = 0; i < p.conditions.size(); ++i) {
    const auto& c = p.conditions[i];
    auto& b = batches_[i];
    b.extras.clear();
    switch (c.kind) {
      case ConditionKind::initial:
      case ConditionKind::initial_rate:
        b.x = p.space_time->sample_initial(c.points, sampler_).to(runtime_.options());
        break;
      case ConditionKind::point:
        b.x = c.at.to(runtime_.options());
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
      default: {
        auto bp = geometry::sample_boundary_where(*p.domain, c.points, sampler_, c.selector);
        b.x = bp.points.to(runtime_.options());
        auto normals = bp.normals.to(runtime_.options());
        for (std::size_t k = 0; k < p.symbols.spatial_inputs.size(); ++k)
          b.extras["n_" + p.symbols.spatial_inputs[k]] = normals.select(1, static_cast<int64_t>(k));
      }
    }
  }
}

LossTerms Solver::loss(int64_t step) {
  const auto& p = problem_;
  if (p.sampling.resample_every > 0 && step > 0 && step % p.sampling.resample_every == 0) sample();
  LossTerms terms;
  auto residuals = pde_->evaluate(net_, interior_);
  for (std::size_t i = 0; i < residuals.size(); ++i)
    terms.emplace_back(p.equation_names[i], p.equation_weights[i] * sum_of_squares_mean(residuals[i]));
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
    } else {
      value = sum_of_squares_mean(b.evaluator->evaluate(net_, b.x, b.extras).front());
    }
    terms.emplace_back(c.name, c.weight * value);
  }
  return terms;
}

torch::Tensor Solver::output_grid(int64_t time_slice, torch::Tensor* inside) const {
  const auto& p = problem_;
  const auto box = p.space->bounding_box();
  std::vector<torch::Tensor> axes;
  for (int64_t i = 0; i < p.space->dim(); ++i)
    axes.push_back(torch::linspace(box.lower[i], box.upper[i], p.output.grid[i], torch::kFloat64));
  std::reverse(axes.begin(), axes.end());  // the first axis varies fastest (VTK image order)
  auto mesh = torch::meshgrid(axes, "ij");
  std::vector<torch::Tensor> columns;
  for (auto it = mesh.rbegin(); it != mesh.rend(); ++it) columns.push_back(it->reshape(-1));
  auto xs = torch::stack(columns, 1);  // [G, d]
  if (inside) *inside = p.space->inside(xs);
  if (!p.transient()) return xs;
  const double t0 = p.space_time->t0(), t1 = p.space_time->t1();
  const double t = p.output.times > 1 ? t0 + (t1 - t0) * time_slice / (p.output.times - 1) : t1;
  return torch::cat({xs, torch::full({xs.size(0), 1}, t, torch::kFloat64)}, 1);
}

void Solver::load_reference() {
  const auto& p = problem_;
  if (p.reference_file) {
    auto data = pinn::load_reference(*p.reference_file, p.symbols.inputs, p.symbols.outputs);
    std::vector<torch::Tensor> columns;
    for (const auto& name : p.symbols.inputs) {
      auto it = std::find(data.inputs.begin(), data.inputs.end(), name);
      if (it == data.inputs.end())
        p.reference_file->fail("the reference data has no column for input '" + name + "'");
      columns.push_back(data.points.select(1, it - data.inputs.begin()));
    }
    reference_points_ = torch::stack(columns, 1).to(runtime_.options());
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
  // Exact solutions are compared on the output grid (every time slice), inside the domain.
  std::vector<torch::Tensor> points;
  for (int64_t s = 0; s < (p.transient() ? p.output.times : 1); ++s) {
    torch::Tensor inside;
    auto x = output_grid(s, &inside);
    points.push_back(x.index({inside}));
  }
  reference_points_ = torch::cat(points).to(runtime_.options());
  std::vector<torch::Tensor> values;
  for (const auto& name : p.symbols.outputs) {
    auto it = p.exact.find(name);
    values.push_back(it == p.exact.end() ? torch::full({reference_points_.size(0)}, NAN, runtime_.options())
                                         : evaluate_on_points(it->second, reference_points_));
  }
  reference_values_ = torch::stack(values, 1);
}

Metrics Solver::evaluate() {
  Metrics metrics;
  if (!reference_points_.defined()) return metrics;
  torch::NoGradGuard no_grad;
  auto prediction = net_->forward(reference_points_);
  for (int64_t j = 0; j < problem_.num_outputs(); ++j) {
    auto truth = reference_values_.select(1, j);
    if (torch::isnan(truth).all().item<bool>()) continue;
    auto err = (prediction.select(1, j) - truth).norm() / truth.norm();
    metrics.emplace_back("l2re_" + problem_.symbols.outputs[j], err.item<double>());
  }
  return metrics;
}

void Solver::write_results(const std::filesystem::path& folder) {
  torch::NoGradGuard no_grad;
  const auto& p = problem_;
  std::vector<std::string> header = p.symbols.inputs;
  for (const auto& o : p.symbols.outputs) header.push_back(o);
  for (const auto& [name, e] : p.exact) {
    header.push_back(name + "_exact");
    header.push_back(name + "_error");
  }
  atomic_write(folder / "fields.csv", [&](std::ostream& out) {
    for (std::size_t i = 0; i < header.size(); ++i) out << (i ? "," : "") << header[i];
    out << '\n';
    for (int64_t s = 0; s < (p.transient() ? p.output.times : 1); ++s) {
      torch::Tensor inside;
      auto x = output_grid(s, &inside);
      x = x.index({inside});
      auto u = net_->forward(x.to(runtime_.options())).to(torch::kFloat64);
      std::vector<torch::Tensor> cols{x, u};
      for (const auto& [name, e] : p.exact) {
        auto exact = evaluate_on_points(e, x).unsqueeze(1);
        cols.push_back(exact);
        cols.push_back(u.select(1, p.output_index(name)).unsqueeze(1) - exact);
      }
      auto table = torch::cat(cols, 1).contiguous();
      auto acc = table.accessor<double, 2>();
      for (int64_t i = 0; i < table.size(0); ++i) {
        for (int64_t j = 0; j < table.size(1); ++j) out << (j ? "," : "") << format_number(acc[i][j]);
        out << '\n';
      }
    }
  });
}

}  // namespace physis::pinn
