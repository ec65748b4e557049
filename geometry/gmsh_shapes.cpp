// mesh_with_gmsh: analytic shapes and their CSG trees rebuilt with Gmsh's OpenCASCADE kernel, then meshed.
#include "geometry/gmsh_io.h"

#include "geometry/ball.h"
#include "geometry/box.h"
#include "geometry/csg.h"
#include "geometry/ellipse.h"
#include "geometry/error.h"
#include "geometry/gmsh_session.h"
#include "geometry/polygon.h"

#include <gmsh.h>

#include <cmath>

namespace physis::geometry {

namespace {

namespace occ = gmsh::model::occ;

// The OpenCASCADE entities of `shape` (the one place that needs to know which primitive it has).
gmsh::vectorpair build(const Geometry& shape) {
  const int d = static_cast<int>(shape.dim());
  if (auto box = dynamic_cast<const Box*>(&shape)) {
    const auto& lo = box->lower();
    const auto& hi = box->upper();
    if (d == 2) return {{2, occ::addRectangle(lo[0], lo[1], 0, hi[0] - lo[0], hi[1] - lo[1])}};
    if (d == 3) return {{3, occ::addBox(lo[0], lo[1], lo[2], hi[0] - lo[0], hi[1] - lo[1], hi[2] - lo[2])}};
  }
  if (auto ball = dynamic_cast<const Ball*>(&shape)) {
    const auto& c = ball->center();
    if (d == 2) return {{2, occ::addDisk(c[0], c[1], 0, ball->radius(), ball->radius())}};
    if (d == 3) return {{3, occ::addSphere(c[0], c[1], c[2], ball->radius())}};
  }
  if (auto ellipse = dynamic_cast<const Ellipse*>(&shape)) {
    // OpenCASCADE wants the larger radius along x: swap the axes and turn a quarter more when needed.
    const auto& c = ellipse->center();
    const bool swap = ellipse->semi_a() < ellipse->semi_b();
    const double rx = swap ? ellipse->semi_b() : ellipse->semi_a(), ry = swap ? ellipse->semi_a() : ellipse->semi_b();
    gmsh::vectorpair disk{{2, occ::addDisk(c[0], c[1], 0, rx, ry)}};
    occ::rotate(disk, c[0], c[1], 0, 0, 0, 1, ellipse->angle() + (swap ? M_PI / 2 : 0));
    return disk;
  }
  if (auto polygon = dynamic_cast<const Polygon*>(&shape)) {
    std::vector<int> points, lines;
    for (const auto& v : polygon->vertices()) points.push_back(occ::addPoint(v[0], v[1], 0));
    for (size_t i = 0; i < points.size(); ++i)
      lines.push_back(occ::addLine(points[i], points[(i + 1) % points.size()]));
    return {{2, occ::addPlaneSurface({occ::addCurveLoop(lines)})}};
  }
  if (auto csg = dynamic_cast<const Csg*>(&shape)) {
    auto a = build(*csg->first()), b = build(*csg->second());
    gmsh::vectorpair out;
    std::vector<gmsh::vectorpair> map;
    switch (csg->operation()) {
      case CsgOperation::union_of: occ::fuse(a, b, out, map); break;
      case CsgOperation::difference: occ::cut(a, b, out, map); break;
      case CsgOperation::intersection: occ::intersect(a, b, out, map); break;
    }
    return out;
  }
  throw GeometryError("Gmsh can mesh 2-D/3-D boxes, balls, ellipses, polygons and their CSG combinations; this " +
                      std::to_string(d) + "-D shape is none of them");
}

// Names every boundary facet after the piece of the nearest boundary point sampled from the analytic shape.
void name_facets(const Geometry& shape, Mesh& mesh) {
  Sampler sampler(SamplerOptions().kind(SamplerKind::sobol).seed(1), torch::kFloat64);
  auto reference = shape.sample_boundary(20000, sampler);
  auto nodes = mesh.nodes.slice(1, 0, mesh.dim);
  auto centroids = nodes.index({mesh.facets}).mean(1);                              // [F, d]
  std::vector<torch::Tensor> nearest;
  for (int64_t start = 0; start < centroids.size(0); start += 512)
    nearest.push_back(torch::cdist(centroids.slice(0, start, start + 512), reference.points).argmin(1));
  mesh.facet_piece = reference.piece.index({torch::cat(nearest)});
  mesh.boundary_names = reference.names;
}

}  // namespace

Mesh mesh_with_gmsh(const GeometryPtr& shape, const GmshShapeOptions& options) {
  if (!shape || (shape->dim() != 2 && shape->dim() != 3))
    throw GeometryError("Gmsh meshes 2-D and 3-D shapes only");
  GmshSession session;
  try {
    gmsh::model::add("physis_shape");
    build(*shape);
    occ::synchronize();
    gmsh::option::setNumber("Mesh.MeshSizeMax", options.mesh_size());
    gmsh::model::mesh::generate(static_cast<int>(shape->dim()));
    Mesh mesh = current_gmsh_mesh();
    gmsh::model::remove();
    // Gmsh keeps unused CAD points as nodes; the mesh geometry only needs the ones cells use, kept as they are.
    name_facets(*shape, mesh);
    return mesh;
  } catch (const GeometryError&) {
    throw;
  } catch (const std::exception& e) {
    throw GeometryError(std::string("Gmsh could not mesh the shape (") + e.what() +
                        "); check that the CSG result is not empty and mesh_size is positive");
  }
}

}  // namespace physis::geometry
