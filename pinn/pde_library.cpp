#include "pinn/pde_library.h"
#include "core/strings.h"

#include "core/config.h"

#include <algorithm>
#include <cmath>
#include <optional>
#include <sstream>

namespace physis::pinn {

namespace {

// Reads parameter `key` into pde.parameters (required without a default), unless it is one of the unknowns.
void read_parameter(const config::Section& s, const std::set<std::string>& unknowns, BuiltinPde& pde,
                    const std::string& key, std::optional<double> fallback = std::nullopt) {
  if (unknowns.count(key)) {
    if (s.has(key))
      s.fail_at(key, "'" + key + "' is declared under `unknowns:`, which training finds; remove its value here");
    return;
  }
  pde.parameters[key] = fallback ? s.get<double>(key, *fallback) : s.get<double>(key);
}

// Incompressible Navier-Stokes in 2-D or 3-D: momentum per velocity component, then continuity.
BuiltinPde navier_stokes(const config::Section& s, const std::vector<std::string>& space,
                         const std::set<std::string>& unknowns) {
  if (space.size() != 2 && space.size() != 3)
    s.fail("navier_stokes needs 2 or 3 spatial inputs, the problem has " + std::to_string(space.size()));
  const std::vector<std::string> velocity = space.size() == 2 ? std::vector<std::string>{"u", "v"}
                                                              : std::vector<std::string>{"u", "v", "w"};
  BuiltinPde pde;
  read_parameter(s, unknowns, pde, "nu");
  pde.transient = !s.get<bool>("steady", true);
  pde.outputs = velocity;
  pde.outputs.push_back("p");
  for (std::size_t i = 0; i < velocity.size(); ++i) {
    const auto& c = velocity[i];
    std::vector<std::string> convection, diffusion;
    for (std::size_t j = 0; j < space.size(); ++j) {
      convection.push_back(velocity[j] + "*" + c + "_" + space[j]);
      diffusion.push_back(c + "_" + space[j] + space[j]);
    }
    std::string r = (pde.transient ? c + "_t + " : std::string()) + join(convection, " + ") + " + p_" + space[i] +
                    " - nu*(" + join(diffusion, " + ") + ")";
    pde.residuals.push_back(r);
    pde.names.push_back("momentum_" + space[i]);
  }
  std::vector<std::string> divergence;
  for (std::size_t j = 0; j < space.size(); ++j) divergence.push_back(velocity[j] + "_" + space[j]);
  pde.residuals.push_back(join(divergence, " + "));
  pde.names.push_back("continuity");
  return pde;
}

// `weights: {name: w, ...}`: a loss weight per residual, by the residual's name.
void read_weights(const config::Section& s, BuiltinPde& pde) {
  pde.weights.assign(pde.residuals.size(), 1.0);
  auto weights = s.optional_child("weights");
  if (!weights) return;
  for (const auto& key : weights->keys()) {
    const auto at = std::find(pde.names.begin(), pde.names.end(), key);
    if (at == pde.names.end())
      weights->fail_at(key, "no residual named '" + key + "' in this PDE; its residuals: " + join(pde.names, ", "));
    const auto w = weights->get<double>(key);
    if (!(w >= 0) || !std::isfinite(w)) weights->fail_at(key, "a loss weight must be a finite number >= 0");
    pde.weights[static_cast<std::size_t>(at - pde.names.begin())] = w;
  }
}

}  // namespace

std::vector<std::string> builtin_pde_names() {
  return {"poisson", "helmholtz", "heat", "burgers", "wave", "allen_cahn", "navier_stokes"};
}

BuiltinPde builtin_pde(const config::Section& s, const std::vector<std::string>& space,
                       const std::set<std::string>& unknowns) {
  const auto name = s.get<std::string>("name");
  BuiltinPde pde;
  pde.outputs = {"u"};
  // Source terms are expressions, added to the residual as text (they may use coordinates and parameters).
  auto source = [&]() { return "(" + s.get<std::string>("source", "0") + ")"; };
  if (name == "poisson") {
    pde.residuals = {"-laplace(u) - " + source()};
  } else if (name == "helmholtz") {
    read_parameter(s, unknowns, pde, "k");
    pde.residuals = {"-laplace(u) - k^2*u - " + source()};
  } else if (name == "heat") {
    read_parameter(s, unknowns, pde, "alpha", 1.0);
    pde.transient = true;
    pde.residuals = {"u_t - alpha*laplace(u) - " + source()};
  } else if (name == "burgers") {
    if (space.size() != 1) s.fail("burgers is the 1-D viscous Burgers equation; the problem has " +
                                  std::to_string(space.size()) + " spatial inputs");
    read_parameter(s, unknowns, pde, "nu");
    pde.transient = true;
    pde.residuals = {"u_t + u*u_" + space[0] + " - nu*u_" + space[0] + space[0]};
  } else if (name == "wave") {
    read_parameter(s, unknowns, pde, "c", 1.0);
    pde.transient = true;
    pde.residuals = {"u_tt - c^2*laplace(u)"};
  } else if (name == "allen_cahn") {
    read_parameter(s, unknowns, pde, "eps", 1.0);
    pde.residuals = {"eps*laplace(u) + u - u^3 - " + source()};
  } else if (name == "navier_stokes") {
    pde = navier_stokes(s, space, unknowns);
  } else {
    s.fail_at("name", "unknown PDE '" + name + "'; built-in PDEs: " + join(builtin_pde_names(), ", ") +
                          " (or write the residual under `equations:`)");
  }
  if (pde.names.empty()) pde.names = {"pde"};
  read_weights(s, pde);
  s.finish();
  return pde;
}

}  // namespace physis::pinn
