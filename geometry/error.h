// The one exception type of the geometry layer: what went wrong and what to do about it.
#pragma once

#include <stdexcept>
#include <string>

namespace physis::geometry {

class GeometryError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace physis::geometry
