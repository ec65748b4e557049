#include "geometry/factory.h"

#include "geometry/ball.h"
#include "geometry/box.h"
#include "geometry/csg.h"
#include "geometry/ellipse.h"
#include "geometry/error.h"
#include "geometry/gmsh_io.h"
#include "geometry/mesh_geometry.h"
#include "geometry/polygon.h"
#include "geometry/space_time.h"

#include <filesystem>
#include <functional>
#include <map>

namespace physis::geometry {

namespace {

using physis::config::Section;

std::vector<double> coordinates(const Section& body, const std::string& key, size_t dim) {
  auto values = body.get<std::vector<double>>(key);
  if (dim > 0 && values.size() != dim)
    body.fail_at(key, "'" + key + "' needs " + std::to_string(dim) + " numbers, got " +
                          std::to_string(values.size()));
  return values;
}

// The optional `boundary` key: one name for the whole boundary, or a map renaming pieces.
void apply_boundary_names(const Section& body, Primitive& shape) {
  if (!body.has("boundary")) return;
  auto names = body.child("boundary");
  if (names.is_scalar()) {
    shape.name_boundary(names.as<std::string>());
  } else if (names.is_map()) {
    std::map<std::string, std::string> renames;
    for (const auto& key : names.keys()) renames[key] = names.get<std::string>(key);
    shape.rename_boundary(renames);
  } else {
    body.fail_at("boundary", "'boundary' must be a name or a map from piece names to new names");
  }
}

std::vector<Point2> vertices(const Section& body) {
  std::vector<Point2> out;
  for (const auto& v : body.get<std::vector<std::vector<double>>>("vertices")) {
    if (v.size() != 2) body.fail_at("vertices", "every vertex needs 2 coordinates [x, y]");
    out.push_back({v[0], v[1]});
  }
  return out;
}

// A box or a convex polygon with its `distance:` key: r_equivalence (the default) or product (smooth at the corners
// to every order).
template <class Shape>
std::shared_ptr<Primitive> with_distance(std::shared_ptr<Shape> shape, const Section& body) {
  const auto kind = body.get<std::string>("distance", "r_equivalence");
  if (kind == "product") {
    try {
      shape->use_product_distance();
    } catch (const GeometryError& e) {
      body.fail_at("distance", e.what());
    }
  } else if (kind != "r_equivalence") {
    body.fail_at("distance", "unknown distance '" + kind + "': expected r_equivalence or product");
  }
  return shape;
}

std::shared_ptr<Primitive> make_primitive(const std::string& kind, const Section& body) {
  if (kind == "interval")
    return with_distance(std::make_shared<Box>(std::vector<double>{body.get<double>("min")},
                                               std::vector<double>{body.get<double>("max")}),
                         body);
  if (kind == "time_interval") return Box::time_interval(body.get<double>("t0"), body.get<double>("t1"));
  if (kind == "rectangle")
    return with_distance(std::make_shared<Box>(coordinates(body, "min", 2), coordinates(body, "max", 2)), body);
  if (kind == "box") {
    auto lo = coordinates(body, "min", 0);
    return with_distance(std::make_shared<Box>(lo, coordinates(body, "max", lo.size())), body);
  }
  if (kind == "hypercube")
    return with_distance(
        Box::hypercube(body.get<int64_t>("dim"), body.get<double>("min", 0.0), body.get<double>("max", 1.0)), body);
  if (kind == "disk") return std::make_shared<Ball>(coordinates(body, "center", 2), body.get<double>("radius"));
  if (kind == "ball") return std::make_shared<Ball>(coordinates(body, "center", 0), body.get<double>("radius"));
  if (kind == "hyperball")
    return Ball::hyperball(body.get<int64_t>("dim"), body.get<double>("radius", 1.0), body.get<double>("center", 0.0));
  if (kind == "ellipse") {
    auto axes = coordinates(body, "semi_axes", 2);
    return std::make_shared<Ellipse>(coordinates(body, "center", 2), axes[0], axes[1], body.get<double>("angle", 0.0));
  }
  if (kind == "triangle") {
    auto v = vertices(body);
    if (v.size() != 3) body.fail_at("vertices", "a triangle needs exactly 3 vertices, got " + std::to_string(v.size()));
    return with_distance(std::make_shared<Polygon>(v), body);
  }
  if (kind == "polygon") return with_distance(std::make_shared<Polygon>(vertices(body)), body);
  return nullptr;
}

GeometryPtr csg(const std::string& kind, const Section& body) {
  if (!body.is_sequence() || body.node().size() < 2)
    body.fail("'" + kind + "' takes a list of at least two geometries");
  auto operands = body.items();
  GeometryPtr result = geometry_from_config(operands[0]);
  for (size_t i = 1; i < operands.size(); ++i) {
    auto next = geometry_from_config(operands[i]);
    if (kind == "union") result = csg_union(result, next);
    else if (kind == "difference") result = csg_difference(result, next);
    else result = csg_intersection(result, next);
  }
  return result;
}

const char* kKnownKinds =
    "interval, time_interval, rectangle, box, hypercube, disk, ball, hyperball, ellipse, triangle, polygon, "
    "union, difference, intersection, space_time, mesh, gmsh";

GeometryPtr build(const std::string& kind, const Section& section) {
  if (kind == "union" || kind == "difference" || kind == "intersection") return csg(kind, section.child(kind));
  auto body = section.child(kind);
  if (!body.is_map()) body.fail("'" + kind + "' takes a mapping of keys (see docs/geometry.md)");
  GeometryPtr result;
  if (auto shape = make_primitive(kind, body)) {
    apply_boundary_names(body, *shape);
    result = shape;
  } else if (kind == "space_time") {
    auto time = body.get<std::vector<double>>("time");
    if (time.size() != 2) body.fail_at("time", "'time' needs [t0, t1]");
    result = std::make_shared<SpaceTime>(geometry_from_config(body.child("space")), time[0], time[1]);
  } else if (kind == "mesh") {
    auto file = std::filesystem::path(body.get<std::string>("file"));
    if (file.is_relative()) file = std::filesystem::path(body.file()).parent_path() / file;
    result = std::make_shared<MeshGeometry>(read_msh(file.string()));
  } else if (kind == "gmsh") {
    auto options = GmshShapeOptions().mesh_size(body.get<double>("mesh_size", 0.1));
    result = std::make_shared<MeshGeometry>(mesh_with_gmsh(geometry_from_config(body.child("shape")), options));
  } else {
    section.fail_at(kind, "unknown geometry '" + kind + "'; known kinds: " + kKnownKinds);
  }
  body.finish();
  return result;
}

}  // namespace

GeometryPtr geometry_from_config(const Section& section) {
  const auto keys = section.keys();
  if (keys.size() != 1)
    section.fail("a geometry is a mapping with exactly one key, its kind (one of " + std::string(kKnownKinds) +
                 "), got " + std::to_string(keys.size()) + " keys");
  try {
    return build(keys.front(), section);
  } catch (const GeometryError& e) {
    section.fail_at(keys.front(), e.what());
  }
}

}  // namespace physis::geometry
