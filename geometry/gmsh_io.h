// Gmsh: read and write .msh files, and mesh analytic shapes with the OpenCASCADE kernel.
//
//   Mesh plate = mesh_with_gmsh(csg_difference(square, hole), GmshShapeOptions().mesh_size(0.05));
//   write_msh(plate, "plate.msh");
//   MeshGeometry domain(read_msh("plate.msh"));   // physical groups become named boundaries and regions
//
// Without the Gmsh SDK (PHYSIS_HAVE_GMSH == 0) every function throws GeometryError saying so.
#pragma once

#include "geometry/geometry.h"
#include "geometry/mesh.h"

#include <torch/arg.h>

#include <string>

namespace physis::geometry {

struct GmshShapeOptions {
  TORCH_ARG(double, mesh_size) = 0.1;  // largest element size, in the shape's units
};

// Linear triangles (2-D) or tetrahedra (3-D) with physical groups as named regions/boundaries; boundary facets
// outside any physical group are named "boundary". Throws GeometryError for missing/unreadable files.
Mesh read_msh(const std::string& path);
// Writes nodes, cells and boundary facets with their names as physical groups (MSH 4.1).
void write_msh(const Mesh& mesh, const std::string& path);
// Meshes a 2-D/3-D shape made of boxes, balls, ellipses, polygons and CSG of them. Boundary facets take the
// shape's piece names (the nearest sampled boundary point's piece).
Mesh mesh_with_gmsh(const GeometryPtr& shape, const GmshShapeOptions& options = {});

}  // namespace physis::geometry
