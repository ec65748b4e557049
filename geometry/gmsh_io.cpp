#include "geometry/gmsh_io.h"

#include "geometry/error.h"
#include "geometry/gmsh_session.h"

#include <gmsh.h>

#include <algorithm>
#include <fstream>
#include <set>
#include <unordered_map>

namespace physis::geometry {

namespace {

// Gmsh element types of linear simplices: 1 line, 2 triangle, 4 tetrahedron.
int simplex_type(int dim) { return dim == 1 ? 1 : dim == 2 ? 2 : 4; }

struct Elements {
  std::vector<int64_t> nodes;  // flat node rows
  std::vector<int64_t> group;  // per element
};

// Collects the linear simplices of dimension `dim` on `entity` (-1: all), node tags mapped to rows.
void collect(int dim, int entity, int64_t group, const std::unordered_map<std::size_t, int64_t>& row,
             Elements& out) {
  std::vector<int> types;
  std::vector<std::vector<std::size_t>> element_tags, node_tags;
  gmsh::model::mesh::getElements(types, element_tags, node_tags, dim, entity);
  for (size_t i = 0; i < types.size(); ++i) {
    if (types[i] != simplex_type(dim))
      throw GeometryError("the mesh has elements of Gmsh type " + std::to_string(types[i]) + " in dimension " +
                          std::to_string(dim) + "; physis uses linear triangles/tetrahedra only (remesh with "
                          "Mesh.ElementOrder = 1 and without recombination)");
    for (auto tag : node_tags[i]) out.nodes.push_back(row.at(tag));
    out.group.insert(out.group.end(), element_tags[i].size(), group);
  }
}

// Elements of dimension `dim` grouped by physical group; those outside any group get `fallback` when asked.
std::vector<std::string> grouped(int dim, const std::unordered_map<std::size_t, int64_t>& row, Elements& out) {
  gmsh::vectorpair groups;
  gmsh::model::getPhysicalGroups(groups, dim);
  std::vector<std::string> names;
  for (const auto& [gdim, gtag] : groups) {
    std::string name;
    gmsh::model::getPhysicalName(gdim, gtag, name);
    if (name.empty()) name = "group" + std::to_string(gtag);
    auto it = std::find(names.begin(), names.end(), name);
    const int64_t index = it - names.begin();
    if (it == names.end()) names.push_back(name);
    std::vector<int> entities;
    gmsh::model::getEntitiesForPhysicalGroup(gdim, gtag, entities);
    for (int entity : entities) collect(dim, entity, index, row, out);
  }
  return names;
}

torch::Tensor long_tensor(const std::vector<int64_t>& values, int64_t columns) {
  return torch::tensor(values, torch::kLong).reshape({-1, columns});
}

}  // namespace

// The mesh of Gmsh's current model (also used by gmsh_shapes.cpp).
Mesh current_gmsh_mesh() {
  Mesh mesh;
  mesh.dim = gmsh::model::getDimension();
  if (mesh.dim != 2 && mesh.dim != 3)
    throw GeometryError("the model has dimension " + std::to_string(mesh.dim) + "; physis meshes are 2-D or 3-D");
  std::vector<std::size_t> tags;
  std::vector<double> coords, parametric;
  gmsh::model::mesh::getNodes(tags, coords, parametric, -1, -1, false, false);
  std::unordered_map<std::size_t, int64_t> row;
  for (size_t i = 0; i < tags.size(); ++i) row[tags[i]] = static_cast<int64_t>(i);
  mesh.nodes = torch::tensor(coords, torch::kFloat64).reshape({-1, 3});
  const int64_t d = mesh.dim;

  Elements cells;
  mesh.region_names = grouped(d, row, cells);
  if (mesh.region_names.empty()) {
    collect(d, -1, 0, row, cells);
    mesh.region_names = {"domain"};
  }
  if (cells.group.empty())
    throw GeometryError("the mesh has no " + std::string(d == 2 ? "triangles" : "tetrahedra") +
                        "; generate a " + std::to_string(d) + "-D mesh first");
  mesh.cells = long_tensor(cells.nodes, d + 1);
  mesh.cell_region = torch::tensor(cells.group, torch::kLong);

  // Named facets from physical groups, plus the remaining boundary facets under "boundary".
  Elements facets;
  mesh.boundary_names = grouped(d - 1, row, facets);
  auto named = long_tensor(facets.nodes, d);
  std::set<std::vector<int64_t>> seen;
  auto sorted_named = std::get<0>(named.sort(1)).contiguous();
  for (int64_t i = 0; i < sorted_named.size(0); ++i) {
    auto* p = sorted_named[i].data_ptr<int64_t>();
    seen.insert(std::vector<int64_t>(p, p + d));
  }
  auto outer = boundary_facets(mesh.cells).contiguous();
  std::vector<int64_t> rest;
  for (int64_t i = 0; i < outer.size(0); ++i) {
    auto* p = outer[i].data_ptr<int64_t>();
    std::vector<int64_t> key(p, p + d);
    std::sort(key.begin(), key.end());
    if (!seen.count(key)) rest.insert(rest.end(), p, p + d);
  }
  if (!rest.empty()) {
    const int64_t index = static_cast<int64_t>(mesh.boundary_names.size());
    mesh.boundary_names.push_back("boundary");
    facets.nodes.insert(facets.nodes.end(), rest.begin(), rest.end());
    facets.group.insert(facets.group.end(), rest.size() / d, index);
  }
  mesh.facets = long_tensor(facets.nodes, d);
  mesh.facet_piece = torch::tensor(facets.group, torch::kLong);
  return mesh;
}

Mesh read_msh(const std::string& path) {
  if (!std::ifstream(path).good())
    throw GeometryError("cannot open mesh file '" + path + "': check that it exists and is readable");
  GmshSession session;
  try {
    gmsh::open(path);
    Mesh mesh = current_gmsh_mesh();
    gmsh::model::remove();
    return mesh;
  } catch (const GeometryError& e) {
    throw GeometryError("mesh file '" + path + "': " + e.what());
  } catch (const std::exception& e) {
    throw GeometryError("cannot read mesh file '" + path + "' (" + e.what() +
                        "); is it a Gmsh .msh file? Re-export it from Gmsh");
  } catch (...) {
    throw GeometryError("cannot read mesh file '" + path + "'; is it a Gmsh .msh file? Re-export it from Gmsh");
  }
}

void write_msh(const Mesh& mesh, const std::string& path) {
  const int d = static_cast<int>(mesh.dim);
  GmshSession session;
  try {
    gmsh::model::add("physis_mesh");
    const int64_t m = mesh.nodes.size(0);
    std::vector<std::size_t> node_tags(m);
    for (int64_t i = 0; i < m; ++i) node_tags[i] = static_cast<std::size_t>(i + 1);
    auto coords = mesh.nodes.to(torch::kFloat64).contiguous();
    // One discrete entity (and physical group) per named region and per named boundary piece.
    auto add_groups = [&](int dim, const std::vector<std::string>& names, const torch::Tensor& elements,
                          const torch::Tensor& group) {
      for (size_t g = 0; g < names.size(); ++g) {
        const int tag = static_cast<int>(g + 1);
        gmsh::model::addDiscreteEntity(dim, tag);
        if (dim == d && g == 0)
          gmsh::model::mesh::addNodes(d, 1, node_tags, std::vector<double>(coords.data_ptr<double>(),
                                                                           coords.data_ptr<double>() + 3 * m));
        auto rows = (elements.index({group == static_cast<int64_t>(g)}) + 1).contiguous();
        std::vector<std::size_t> nodes(rows.data_ptr<int64_t>(), rows.data_ptr<int64_t>() + rows.numel());
        gmsh::model::mesh::addElementsByType(tag, simplex_type(dim), {}, nodes);
        gmsh::model::addPhysicalGroup(dim, {tag}, tag);
        gmsh::model::setPhysicalName(dim, tag, names[g]);
      }
    };
    add_groups(d, mesh.region_names, mesh.cells, mesh.cell_region);
    add_groups(d - 1, mesh.boundary_names, mesh.facets, mesh.facet_piece);
    gmsh::write(path);
    gmsh::model::remove();
  } catch (const std::exception& e) {
    throw GeometryError("cannot write mesh file '" + path + "' (" + e.what() + "); check the directory exists");
  }
}

}  // namespace physis::geometry
