// mesh_column with the Gmsh SDK: the column and its holes with OpenCASCADE, 6-node triangles with the midside
// nodes of the holes on the circles.
#include "operators/fea_column.h"

#include "geometry/error.h"
#include "geometry/gmsh_session.h"

#include <gmsh.h>

#include <algorithm>
#include <cmath>
#include <unordered_map>

namespace physis::ops {

namespace {

namespace occ = gmsh::model::occ;

constexpr int kTriangle6 = 9;  // Gmsh's element type of 6-node triangles (corners, then midsides 01, 12, 20:
                               // CalculiX's CPS6 order)

}  // namespace

FeMesh mesh_column(const ColumnDesign& design, const FeaColumnOptions& options) {
  const double width = options.width(), height = design.height;
  geometry::GmshSession session;
  try {
    gmsh::model::add("physis_column");
    gmsh::vectorpair holes, column;
    for (int k = -1; k <= 1; ++k)
      holes.push_back({2, occ::addDisk(width / 2 + design.hole_offset, height / 2 + k * design.hole_pitch, 0,
                                       design.hole_radius, design.hole_radius)});
    std::vector<gmsh::vectorpair> map;
    occ::cut({{2, occ::addRectangle(0, 0, 0, width, height)}}, holes, column, map);
    occ::synchronize();
    gmsh::option::setNumber("Mesh.MeshSizeMax", options.mesh_size());
    gmsh::option::setNumber("Mesh.MeshSizeFromCurvature", 12);  // elements per full turn of a hole
    gmsh::option::setNumber("Mesh.Algorithm", 6);               // Frontal-Delaunay: well-shaped triangles
    gmsh::model::mesh::generate(2);
    gmsh::model::mesh::setOrder(2);

    std::vector<std::size_t> element_tags, element_nodes, node_tags;
    gmsh::model::mesh::getElementsByType(kTriangle6, element_tags, element_nodes);
    std::vector<double> coords, parametric;
    gmsh::model::mesh::getNodes(node_tags, coords, parametric, -1, -1, /*includeBoundary=*/true,
                                /*returnParametricCoord=*/false);
    gmsh::model::remove();
    if (element_tags.empty()) throw geometry::GeometryError("Gmsh made no 6-node triangles");

    // Rows for the nodes the triangles use, in tag order (Gmsh keeps a few CAD points that no element uses).
    std::vector<std::size_t> used(element_nodes);
    std::sort(used.begin(), used.end());
    used.erase(std::unique(used.begin(), used.end()), used.end());
    std::unordered_map<std::size_t, int64_t> row;
    for (std::size_t i = 0; i < used.size(); ++i) row[used[i]] = static_cast<int64_t>(i);
    std::unordered_map<std::size_t, std::size_t> position;
    for (std::size_t i = 0; i < node_tags.size(); ++i) position[node_tags[i]] = i;

    FeMesh mesh;
    mesh.element_type = "CPS6";
    const auto m = static_cast<int64_t>(used.size());
    mesh.nodes = torch::empty({m, 2}, torch::kFloat64);
    auto* x = mesh.nodes.data_ptr<double>();
    const double tolerance = 1e-6 * height;
    for (int64_t i = 0; i < m; ++i) {
      const std::size_t p = position.at(used[static_cast<std::size_t>(i)]);
      x[2 * i] = coords[3 * p];
      x[2 * i + 1] = coords[3 * p + 1];
      if (std::abs(x[2 * i + 1]) < tolerance) mesh.node_sets["BOTTOM"].push_back(i);
      if (std::abs(x[2 * i + 1] - height) < tolerance) mesh.node_sets["TOP"].push_back(i);
    }
    const auto e = static_cast<int64_t>(element_tags.size());
    mesh.elements = torch::empty({e, 6}, torch::kLong);
    auto* c = mesh.elements.data_ptr<int64_t>();
    for (int64_t i = 0; i < 6 * e; ++i) c[i] = row.at(element_nodes[static_cast<std::size_t>(i)]);
    // CalculiX wants the corners counter-clockwise: mirror any clockwise triangle (swap corners 1, 2 and the
    // midsides 01, 20).
    for (int64_t i = 0; i < e; ++i) {
      auto* t = c + 6 * i;
      const double ax = x[2 * t[1]] - x[2 * t[0]], ay = x[2 * t[1] + 1] - x[2 * t[0] + 1];
      const double bx = x[2 * t[2]] - x[2 * t[0]], by = x[2 * t[2] + 1] - x[2 * t[0] + 1];
      if (ax * by - ay * bx < 0) {
        std::swap(t[1], t[2]);
        std::swap(t[3], t[5]);
      }
    }
    if (!mesh.node_sets.count("BOTTOM") || !mesh.node_sets.count("TOP"))
      throw geometry::GeometryError("the mesh has no nodes on the top or bottom edge");
    return mesh;
  } catch (const geometry::GeometryError&) {
    throw;
  } catch (const std::exception& e) {
    throw geometry::GeometryError(std::string("Gmsh could not mesh the column (") + e.what() + ")");
  }
}

}  // namespace physis::ops
