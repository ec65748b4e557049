// Shapes shared by the geometry tests.
#pragma once

#include "geometry/ball.h"
#include "geometry/box.h"
#include "geometry/csg.h"

#include <memory>
#include <string>

namespace physis::test {

inline std::shared_ptr<geometry::Ball> disk(double x, double y, double r, const std::string& name) {
  auto d = std::make_shared<geometry::Ball>(std::vector<double>{x, y}, r);
  d->name_boundary(name);
  return d;
}

// PINNacle Poisson2d-C: the square [-0.5, 0.5]^2 ("outer") minus four disks of radius 0.1 at (+-0.3, +-0.3).
inline geometry::GeometryPtr poisson2d_c(const std::string& holes = "hole") {
  using geometry::csg_union;
  geometry::GeometryPtr all = csg_union(csg_union(disk(0.3, 0.3, 0.1, holes), disk(-0.3, 0.3, 0.1, holes)),
                                        csg_union(disk(0.3, -0.3, 0.1, holes), disk(-0.3, -0.3, 0.1, holes)));
  auto square = std::make_shared<geometry::Box>(std::vector<double>{-0.5, -0.5}, std::vector<double>{0.5, 0.5});
  square->name_boundary("outer");
  return geometry::csg_difference(square, all);
}

}  // namespace physis::test
