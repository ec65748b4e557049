// Adversarial adaptive sampling (AAS; Tang, Zhai, Wan & Yang, "Adversarial Adaptive Sampling: Unify PINN and
// Optimal Transport for the Approximation of PDEs", ICLR 2024): the collocation points are drawn from a
// normalizing flow p (pinn/aas_flow.h, a density on the domain's bounding box) that plays against the PINN u in
//
//     min_u max_p  J(u, p) = E_{x~p}[ r^2(x; u) ] - beta ||grad_x p||^2_{L2},     p a probability density,   (*)
//
// the paper's minmax problem with the Lipschitz constraint on p relaxed into its Sobolev (gradient) penalty. (*) is
// written from the paper's published description (a flow maximising the expected squared residual, a Sobolev
// penalty standing for the Lipschitz constraint, a score-function gradient, alternating updates), not transcribed
// from its numbered equations, which were not at hand. Why
// it helps: with mu_r = r^2 / ||r||^2 the residual-induced density and U the uniform one,
// E_p[r^2] = ||r||^2 (E_{mu_r}[p] - E_U[p] + 1/|Omega|), and by Kantorovich-Rubinstein duality the supremum of
// E_{mu_r}[p] - E_U[p] over 1-Lipschitz p is the Wasserstein-1 distance W1(mu_r, U). The max step therefore
// measures how far the residual is from uniform (p grows where r^2 is large); the min step, the PINN trained on
// points drawn from p, lowers both ||r||^2 and that distance, driving the residual towards a flat profile whose
// Monte Carlo error is small.
//
// What this class does, every `every` training steps (alternating updates, as the paper's algorithm):
//  1. proposal: `candidates` points in the box, a share `uniform` of them uniform, the rest drawn from the current
//     flow; m(x) = uniform + (1 - uniform) p_old(x) |box| is their density relative to the uniform one. Residuals
//     r_i^2 (summed over equations) at the points inside the domain, 0 outside;
//  2. `flow_steps` Adam steps (rate `lr`) of gradient ascent on the importance-sampling estimate of (*) in the
//     box's unit coordinates (q = p |box|, grad_u q = (upper - lower) * grad_x q):
//         J(alpha) = mean_i( rho_i q_i / m_i ) - beta mean_i( |grad_u q_i|^2 / m_i ),
//         rho_i = r_i^2 / mean_j( r_j^2 / m_j ),
//     i.e. the residual normalised to a density of mean 1 on the box: J = 1 for the uniform flow whatever the
//     residual's units, so `penalty` (beta) is dimensionless. The gradient of the first term is the
//     score-function (REINFORCE) form E_p[r^2 grad log p] at alpha = alpha_old;
//  3. the PINN's interior points are replaced by as many points drawn from the updated flow, rejecting those
//     outside a non-box domain (geometry inside()); per-point weights return to 1, so the PDE loss is
//     mean_i r^2(x_i), x_i ~ p: the Monte Carlo form of E_p[r^2], the min step of (*). With `mix` > 0 that share
//     of the points is drawn uniformly in the domain instead, i.e. the PINN samples (1 - mix) p + mix U (a floor
//     under p, as RAD's constant c): the gradient penalty spreads p's mass only slowly (in 2-D the maximiser of (*)
//     is p's mean plus a logarithmic potential of r^2), so where p is thin the residual would go unwatched.
//     mix = 0 is the paper's scheme. With `importance` a > 0, each point x_i of the PINN is weighed by w_i
//     proportional to s(x_i)^-a, s = (1 - mix) p_D + mix / |D| the density it was drawn from relative to the
//     uniform one (p_D the flow restricted to the domain), the weights scaled to mean 1. With a = 1 (or `true`) the
//     loss mean_i w_i r^2(x_i) is the importance-sampling estimate of the domain's mean of r^2, the uniform PINN's
//     loss, with the points where the residual is large; 0 < a < 1 goes between that and E_p[r^2] (a = 0, the
//     paper's), which weighs the places where p is thin by p: on the two-peak problem the error of that scheme lies
//     almost all (99 %) away from the peaks, where r^2 is small against the peaks' but p thinner still.
// The first `every` steps train on the problem's own (uniform) points, as the paper's pre-training.
//
//   training:
//     adaptive:
//       - {method: aas, every: 500, flow_steps: 200, couplings: 4, hidden: 32, lr: 0.002, penalty: 0.05}
//
// Draws are seeded from the run's seed and the update's number, and the flow's parameters, its optimizer state, the
// counters and the interior points are checkpointed, so a resumed run continues exactly.
#pragma once

#include "pinn/aas_flow.h"
#include "pinn/adaptive.h"

#include <torch/optim/adam.h>

#include <memory>

namespace physis::pinn {

struct AasOptions {
  TORCH_ARG(int64_t, every) = 500;       // steps between flow updates (each followed by a redraw of the points)
  TORCH_ARG(int64_t, flow_steps) = 200;  // ascent steps of the flow per update
  TORCH_ARG(int64_t, couplings) = 4;     // affine coupling layers of the flow
  TORCH_ARG(int64_t, hidden) = 32;       // width of each coupling's two hidden layers
  TORCH_ARG(double, lr) = 2e-3;          // Adam step of the flow
  TORCH_ARG(double, penalty) = 0.05;     // beta: weight of the gradient penalty ||grad_u q||^2
  TORCH_ARG(int64_t, candidates) = 0;    // proposal points per update; 0: four times the interior points
  TORCH_ARG(double, uniform) = 0.5;      // share of the proposal drawn uniformly in the box
  TORCH_ARG(double, mix) = 0.0;          // share of the PINN's points drawn uniformly in the domain, not from p
  TORCH_ARG(double, importance) = 0.0;   // a: weigh the PINN's points by 1 / s^a, s their sampling density (above)
};

// The estimate J(alpha) of step 2 for the flow's current parameters, differentiable in them: rho [M] the
// normalised residual density, m [M] the proposal's density relative to the uniform one, x [M, d] the points.
torch::Tensor aas_objective(BoxFlow& flow, const torch::Tensor& x, const torch::Tensor& rho, const torch::Tensor& m,
                            double penalty);

class AdversarialSampling : public AdaptiveMethod {
 public:
  AdversarialSampling(Solver& solver, AasOptions options);
  std::string name() const override { return "aas"; }
  void before_step(int64_t step) override;
  void save(torch::serialize::OutputArchive& archive) const override;
  void load(torch::serialize::InputArchive& archive) override;

  BoxFlow flow() const { return flow_; }
  // One update (steps 1 to 3 above), whatever the schedule.
  void update();
  // n points drawn from the flow inside the domain (topped up with uniform points if rejection keeps too few).
  torch::Tensor draw_inside(int64_t n, uint64_t seed);
  // [N, 1] the `importance` weights of the PINN's points, mean 1; uniform_inside: uniform points in the domain.
  torch::Tensor importance_weights(const torch::Tensor& points, const torch::Tensor& uniform_inside);

 private:
  AasOptions options_;
  BoxFlow flow_{nullptr};
  std::unique_ptr<torch::optim::Adam> optimizer_;
  StepInterval interval_;
  int64_t updates_ = 0;
};

std::shared_ptr<AdaptiveMethod> make_adversarial_sampling(const config::Section& item, Solver* solver);

}  // namespace physis::pinn
