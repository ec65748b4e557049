#include "pinn/aas.h"

#include "geometry/sampler.h"
#include "pinn/solver.h"

#include <torch/csrc/autograd/autograd.h>

#include <ATen/Context.h>

#include <cmath>
#include <mutex>

namespace physis::pinn {
namespace {

// A seed per update (and per use within it), so that draws neither repeat nor depend on how many happened before
// a resume.
uint64_t update_seed(const Solver& solver, int64_t update, uint64_t use) {
  return solver.problem().runtime.seed() * 0xD1B54A32D192ED03ULL + 0x8CB92BA72F3D8DD7ULL * (update + 1) + use;
}

// The flow on the domain's bounding box, on the solver's device and dtype. Its initial weights come from a seed of
// their own, and the process-wide CPU generator is left as it was, so that adding AAS to a problem changes nothing
// else in the run.
BoxFlow make_flow(const Solver& solver, const AasOptions& options) {
  const auto box = solver.problem().domain->bounding_box();
  auto generator = at::globalContext().defaultGenerator(torch::kCPU);
  torch::Tensor state;
  {
    std::lock_guard<std::mutex> lock(generator.mutex());
    state = generator.get_state();
    generator.set_current_seed(update_seed(solver, -1, 0));
  }
  // Initialisation draws from the generator, taking its lock: it must not be held here.
  BoxFlow flow(BoxFlowOptions(box.lower, box.upper).couplings(options.couplings()).hidden(options.hidden()));
  {
    std::lock_guard<std::mutex> lock(generator.mutex());
    generator.set_state(state);
  }
  flow->to(solver.interior().device(), solver.interior().scalar_type());
  return flow;
}

// [M] the flow's density at x [M, d] relative to the uniform one on its box (q = p |box|).
torch::Tensor relative_density(BoxFlow& flow, const torch::Tensor& x) {
  return torch::exp(flow->log_prob(x) + flow->log_volume());
}

}  // namespace

torch::Tensor aas_objective(BoxFlow& flow, const torch::Tensor& x, const torch::Tensor& rho, const torch::Tensor& m,
                            double penalty) {
  TORCH_CHECK(x.dim() == 2 && rho.dim() == 1 && m.dim() == 1 && rho.size(0) == x.size(0) && m.size(0) == x.size(0),
              "aas_objective: expected x [M, d], rho [M], m [M] but got ", x.sizes(), ", ", rho.sizes(), ", ",
              m.sizes());
  auto points = x.detach().requires_grad_(true);
  auto log_q = flow->log_prob(points) + flow->log_volume();  // [M], density relative to the uniform one
  auto q = torch::exp(log_q);
  auto gain = (rho * q / m).mean();
  if (penalty == 0) return gain;
  auto grad_x = torch::autograd::grad({log_q.sum()}, {points}, {}, /*retain_graph=*/true, /*create_graph=*/true)[0];
  auto grad_u = grad_x * flow->extent(points);  // [M, d]: unit-box coordinates
  auto sobolev = (q.square() * grad_u.square().sum(1) / m).mean();  // grad q = q grad log q
  return gain - penalty * sobolev;
}

AdversarialSampling::AdversarialSampling(Solver& solver, AasOptions options)
    : AdaptiveMethod(solver), options_(options), flow_(make_flow(solver, options)), interval_{options.every()} {
  optimizer_ = std::make_unique<torch::optim::Adam>(flow_->parameters(), torch::optim::AdamOptions(options_.lr()));
}

void AdversarialSampling::before_step(int64_t step) {
  if (interval_.due(step)) update();
}

void AdversarialSampling::update() {
  const int64_t update = updates_++;
  const auto& options = solver_.interior().options();
  const int64_t n = solver_.interior().size(0);
  const int64_t total = options_.candidates() > 0 ? options_.candidates() : 4 * n;
  const auto from_uniform = static_cast<int64_t>(std::llround(options_.uniform() * static_cast<double>(total)));

  // 1. proposal points, their density relative to the uniform one, and the residual at them
  torch::Tensor x, m;
  {
    torch::NoGradGuard no_grad;
    geometry::Sampler sampler(geometry::SamplerOptions().seed(update_seed(solver_, update, 1)), options);
    auto uniform = sampler.uniform(from_uniform, flow_->dim());                    // [U, d] in [0, 1)^d
    auto drawn = flow_->sample(total - from_uniform, sampler).first;                // [M - U, d]
    x = torch::cat({flow_->lower(uniform) + flow_->extent(uniform) * uniform, drawn});  // [M, d]
    auto q_old = relative_density(flow_, x);
    const double share = static_cast<double>(from_uniform) / static_cast<double>(total);  // `uniform`, rounded
    m = share + (1 - share) * q_old;                                                         // [M]
  }
  auto inside = solver_.problem().domain->inside(x);  // [M] bool
  auto r2 = torch::zeros({x.size(0)}, options);
  if (inside.any().item<bool>()) r2.index_put_({inside}, solver_.residuals(x.index({inside})).square().sum(1));
  const double scale = (r2 / m).mean().item<double>();  // estimate of the integral of r^2 over the unit box
  if (!(scale > 0) || !std::isfinite(scale)) return;    // nothing to follow: keep flow and points
  auto rho = r2 / scale;

  // 2. ascent on the flow
  for (int64_t k = 0; k < options_.flow_steps(); ++k) {
    optimizer_->zero_grad();
    auto loss = -aas_objective(flow_, x, rho, m, options_.penalty());
    loss.backward();
    optimizer_->step();
  }

  // 3. the PINN's points from the updated flow (and a share `mix` uniform in the domain)
  const auto from_domain = static_cast<int64_t>(std::llround(options_.mix() * static_cast<double>(n)));
  // The flow's share is the head of the draw a mix of 0 would take, so that `mix` changes nothing else.
  auto points = draw_inside(n, update_seed(solver_, update, 2)).narrow(0, 0, n - from_domain);
  if (from_domain > 0) {
    geometry::Sampler sampler(geometry::SamplerOptions().seed(update_seed(solver_, update, 3)), options);
    points = torch::cat({points, solver_.problem().domain->sample_interior(from_domain, sampler).to(options)});
  }
  torch::Tensor weights;
  if (options_.importance() > 0)  // the proposal's uniform points inside the domain normalise the flow there
    weights = importance_weights(points, x.narrow(0, 0, from_uniform).index({inside.narrow(0, 0, from_uniform)}));
  solver_.set_interior(points, weights);
}

torch::Tensor AdversarialSampling::importance_weights(const torch::Tensor& points, const torch::Tensor& uniform_inside) {
  torch::NoGradGuard no_grad;
  // The flow restricted to the domain, relative to the uniform density there: q / E_{U(D)}[q], the mean taken over
  // the proposal's uniform points inside the domain (for a box domain it is 1 up to sampling noise; a constant
  // factor would cancel anyway, but not between the flow's share and the uniform one).
  auto q = relative_density(flow_, points);
  const double mean_q = uniform_inside.size(0) > 0 ? relative_density(flow_, uniform_inside).mean().item<double>() : 1.0;
  auto density = (1 - options_.mix()) * q / mean_q + options_.mix();  // [N], relative to uniform on the domain
  auto w = density.clamp_min(1e-12).pow(-options_.importance());
  return (w / w.mean()).unsqueeze(1);
}

torch::Tensor AdversarialSampling::draw_inside(int64_t n, uint64_t seed) {
  torch::NoGradGuard no_grad;
  const auto& options = solver_.interior().options();
  const auto& domain = *solver_.problem().domain;
  geometry::Sampler sampler(geometry::SamplerOptions().seed(seed), options);
  std::vector<torch::Tensor> kept;
  int64_t count = 0;
  // A box domain keeps every point of the first round; others draw what is missing, twice over, a few times.
  for (int round = 0; round < 8 && count < n; ++round) {
    const int64_t want = n - count;
    auto x = flow_->sample(round == 0 ? want : 2 * want + 16, sampler).first;
    x = x.index({domain.inside(x)});
    kept.push_back(x.narrow(0, 0, std::min(want, x.size(0))));
    count += kept.back().size(0);
  }
  // The flow's mass lies mostly outside the domain: top up with uniform points rather than loop on.
  if (count < n) kept.push_back(domain.sample_interior(n - count, sampler).to(options));
  return torch::cat(kept);
}

void AdversarialSampling::save(torch::serialize::OutputArchive& archive) const {
  write_value(archive, "last", static_cast<double>(interval_.last));
  write_value(archive, "updates", static_cast<double>(updates_));
  torch::serialize::OutputArchive flow_archive, optimizer_archive;
  flow_->save(flow_archive);
  optimizer_->save(optimizer_archive);
  archive.write("flow", flow_archive);
  archive.write("flow_optimizer", optimizer_archive);
  write_interior(archive, solver_);
}

void AdversarialSampling::load(torch::serialize::InputArchive& archive) {
  interval_.last = static_cast<int64_t>(read_value(archive, "last"));
  updates_ = static_cast<int64_t>(read_value(archive, "updates"));
  torch::serialize::InputArchive flow_archive, optimizer_archive;
  archive.read("flow", flow_archive);
  archive.read("flow_optimizer", optimizer_archive);
  flow_->load(flow_archive);
  flow_->to(solver_.interior().device(), solver_.interior().scalar_type());
  optimizer_->load(optimizer_archive);
  read_interior(archive, solver_);
}

std::shared_ptr<AdaptiveMethod> make_adversarial_sampling(const config::Section& item, Solver* solver) {
  const AasOptions defaults;
  auto options = AasOptions()
                     .every(read_count(item, "every", defaults.every()))
                     .flow_steps(read_count(item, "flow_steps", defaults.flow_steps(), 0))
                     .couplings(read_count(item, "couplings", defaults.couplings()))
                     .hidden(read_count(item, "hidden", defaults.hidden()))
                     .lr(read_number(item, "lr", defaults.lr(), 1e-12, 10.0))
                     .penalty(read_number(item, "penalty", defaults.penalty(), 0.0, 1e12))
                     .candidates(read_count(item, "candidates", defaults.candidates(), 0))
                     .uniform(read_number(item, "uniform", defaults.uniform(), 0.0, 1.0))
                     .mix(read_number(item, "mix", defaults.mix(), 0.0, 1.0))
                     .importance(defaults.importance());
  if (item.has("importance")) {  // an exponent in [0, 1], or true / false for 1 / 0
    const auto text = item.get<std::string>("importance");
    options.importance(text == "true" ? 1.0 : text == "false" ? 0.0 : read_number(item, "importance", 0.0, 0.0, 1.0));
  }
  item.finish();
  return solver ? std::make_shared<AdversarialSampling>(*solver, options) : nullptr;
}

}  // namespace physis::pinn
