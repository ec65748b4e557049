// Geometries from YAML: every primitive, CSG trees, space-time products, .msh files and Gmsh-built meshes.
//
//   geometry:
//     difference:
//       - rectangle: {min: [-0.5, -0.5], max: [0.5, 0.5], boundary: outer}
//       - union:
//           - disk: {center: [0.3, 0.3], radius: 0.1, boundary: hole}
//           - disk: {center: [-0.3, 0.3], radius: 0.1, boundary: hole}
//
//   auto domain = geometry_from_config(config.child("geometry"));
//
// The schema, with every key, is in docs/geometry.md. Mistakes are ConfigErrors naming file:line:column.
#pragma once

#include "core/config.h"
#include "geometry/geometry.h"

namespace physis::geometry {

// `section` is a mapping with exactly one key, the shape's kind. Relative mesh paths are resolved against the
// directory of the YAML file.
GeometryPtr geometry_from_config(const physis::config::Section& section);

}  // namespace physis::geometry
