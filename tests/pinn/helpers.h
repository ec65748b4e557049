// Small helpers shared by the pinn tests.
#pragma once

#include "core/config.h"
#include "core/runtime.h"
#include "pinn/problem.h"

#include <string>

namespace physis::test {

// A problem from YAML text; error locations read "test.yaml:LINE:COL".
inline pinn::Problem problem_from(const std::string& yaml) {
  return pinn::Problem::from_section(config::Section::load_string(yaml, "test.yaml"));
}

// The message of the ConfigError that loading `yaml` throws, or "no error".
inline std::string problem_error(const std::string& yaml) {
  try {
    problem_from(yaml);
  } catch (const config::ConfigError& e) {
    return e.what();
  }
  return "no error";
}

inline Runtime runtime64(uint64_t seed = 0) {
  return Runtime::create(RuntimeOptions().device("cpu").dtype("float64").seed(seed));
}

}  // namespace physis::test
