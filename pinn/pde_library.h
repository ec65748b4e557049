// Built-in PDEs by name, written in the problem-file expression language so that they go through exactly the
// same parser, derivative planning and evaluation as equations users write themselves.
//
//   pde: {name: burgers, nu: 0.00318}     ->  outputs [u], residual "u_t + u*u_x - nu*u_xx"
#pragma once

#include <map>
#include <set>
#include <string>
#include <vector>

namespace physis::config {
class Section;
}

namespace physis::pinn {

struct BuiltinPde {
  std::vector<std::string> outputs;         // default output names
  std::vector<std::string> residuals;       // expression texts, zero at the solution
  std::vector<std::string> names;           // their loss-term names: pde (one residual), momentum_x ... continuity
  std::vector<double> weights;              // their loss weights (`weights: {name: w}`, default 1)
  std::map<std::string, double> parameters; // the PDE's parameters with their values
  bool transient = false;                   // needs a time input t
};

// Reads `pde: {name: ..., <parameters>, weights: {<residual name>: w}}` for spatial inputs `space` (e.g. {x, y}).
// Names: poisson (source f), helmholtz (k, source f), heat (alpha, source f), burgers (nu), wave (c),
// allen_cahn (eps), navier_stokes (nu, steady: true|false; 2-D or 3-D from the inputs).
// Unknown names or parameters are ConfigErrors at their position. A parameter named in `unknowns` (an inverse
// problem's unknown coefficient) is left out of `parameters`, and giving it a value here is an error.
BuiltinPde builtin_pde(const config::Section& section, const std::vector<std::string>& space,
                       const std::set<std::string>& unknowns = {});

// Names accepted by builtin_pde, for messages and docs.
std::vector<std::string> builtin_pde_names();

}  // namespace physis::pinn
