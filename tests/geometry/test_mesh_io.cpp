// Meshes: Gmsh round trip, mesh geometries, VTK files read back, clear errors for bad input.
#include <catch2/catch.hpp>

#include "core/build_config.h"
#include "core/config.h"
#include "geometry/ball.h"
#include "geometry/box.h"
#include "geometry/csg.h"
#include "geometry/error.h"
#include "geometry/factory.h"
#include "geometry/gmsh_io.h"
#include "geometry/mesh_geometry.h"
#include "geometry/vtk_io.h"
#include "tests/scratch.h"

#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>

using namespace physis::geometry;
namespace fs = std::filesystem;

namespace {

using physis::test::scratch;

GeometryPtr plate_with_hole() {
  auto square = std::make_shared<Box>(std::vector<double>{0, 0}, std::vector<double>{1, 1});
  auto hole = std::make_shared<Ball>(std::vector<double>{0.5, 0.5}, 0.2);
  hole->name_boundary("hole");
  return csg_difference(square, hole);
}

// A 2 x 1 rectangle as two triangles, with its four sides as boundary facets.
Mesh two_triangles() {
  Mesh mesh;
  mesh.dim = 2;
  mesh.nodes = torch::tensor({0.0, 0.0, 0.0, 2.0, 0.0, 0.0, 2.0, 1.0, 0.0, 0.0, 1.0, 0.0}, torch::kFloat64)
                   .reshape({4, 3});
  mesh.cells = torch::tensor({0, 1, 2, 0, 2, 3}, torch::kLong).reshape({2, 3});
  mesh.cell_region = torch::zeros({2}, torch::kLong);
  mesh.region_names = {"domain"};
  mesh.facets = torch::tensor({0, 1, 1, 2, 2, 3, 3, 0}, torch::kLong).reshape({4, 2});
  mesh.facet_piece = torch::tensor({0, 1, 0, 1}, torch::kLong);
  mesh.boundary_names = {"long", "short"};
  return mesh;
}

}  // namespace

TEST_CASE("a mesh is a geometry: inside, boundary normals, weighted sampling", "[geometry][mesh]") {
  MeshGeometry rectangle(two_triangles());
  REQUIRE(rectangle.measure() == Approx(2.0));
  REQUIRE(rectangle.boundary_measure() == Approx(6.0));
  Sampler sampler(SamplerOptions().seed(3), torch::kFloat64);
  auto x = rectangle.sample_interior(4000, sampler);
  REQUIRE(rectangle.inside(x).all().item<bool>());
  REQUIRE(x.select(1, 0).mean().item<double>() == Approx(1.0).margin(0.03));  // area-weighted: centre of mass
  REQUIRE_FALSE(rectangle.inside(torch::tensor({{2.1, 0.5}, {-0.1, 0.5}}, torch::kFloat64)).any().item<bool>());
  auto b = rectangle.sample_boundary(4000, sampler);
  REQUIRE(rectangle.on_boundary(b.points, 1e-9).all().item<bool>());
  REQUIRE_FALSE(rectangle.inside(b.points + 1e-4 * b.normals).any().item<bool>());
  REQUIRE(b.mask("long").to(torch::kFloat64).mean().item<double>() == Approx(4.0 / 6).margin(0.02));
  REQUIRE((rectangle.distance(x) >= 0).all().item<bool>());
  REQUIRE(rectangle.distance(torch::tensor({{1.0, 0.25}}, torch::kFloat64)).item<double>() == Approx(0.25));
}

TEST_CASE("Gmsh: mesh a CSG shape, write .msh, read it back", "[geometry][mesh][gmsh]") {
  if (!PHYSIS_HAVE_GMSH) {
    REQUIRE_THROWS_WITH(read_msh("x.msh"), Catch::Contains("without Gmsh"));
    return;
  }
  auto shape = plate_with_hole();
  Mesh mesh = mesh_with_gmsh(shape, GmshShapeOptions().mesh_size(0.08));
  REQUIRE(mesh.dim == 2);
  REQUIRE(mesh.cells.size(0) > 100);
  MeshGeometry domain(mesh);
  REQUIRE(domain.measure() == Approx(1 - M_PI * 0.04).epsilon(0.01));  // polygonal hole: slightly larger area
  REQUIRE(domain.boundary_names() == shape->boundary_names());
  auto path = scratch("plate.msh").string();
  write_msh(mesh, path);
  Mesh back = read_msh(path);
  REQUIRE(back.dim == 2);
  REQUIRE(torch::allclose(back.nodes, mesh.nodes));
  REQUIRE(torch::equal(back.cells, mesh.cells));
  REQUIRE(back.boundary_names == mesh.boundary_names);
  REQUIRE(back.facets.size(0) == mesh.facets.size(0));
  // The hole's facets are named after the hole (nodes on the circle) before and after the file.
  for (const Mesh* m : {&mesh, &back}) {
    auto hole = std::find(m->boundary_names.begin(), m->boundary_names.end(), "hole") - m->boundary_names.begin();
    auto nodes = m->nodes.slice(1, 0, 2).index({m->facets.index({m->facet_piece == hole}).flatten()});
    auto radius = torch::linalg_vector_norm(nodes - 0.5, 2, {1});
    REQUIRE(radius.size(0) > 10);
    REQUIRE(torch::allclose(radius, torch::full_like(radius, 0.2), 1e-6, 1e-6));
  }
  MeshGeometry loaded(back);
  Sampler sampler(SamplerOptions().seed(4), torch::kFloat64);
  auto b = loaded.sample_boundary(500, sampler);
  REQUIRE_FALSE(loaded.inside(b.points + 1e-4 * b.normals).any().item<bool>());
  REQUIRE(shape->on_boundary(b.points.index({b.mask("x_min")}), 1e-9).all().item<bool>());
}

TEST_CASE("Gmsh meshes 3-D CSG shapes and YAML builds mesh geometries", "[geometry][mesh][gmsh]") {
  if (!PHYSIS_HAVE_GMSH) return;
  auto cube = std::make_shared<Box>(std::vector<double>{0, 0, 0}, std::vector<double>{1, 1, 1});
  auto ball = std::make_shared<Ball>(std::vector<double>{0.5, 0.5, 0.5}, 0.3);
  MeshGeometry solid(mesh_with_gmsh(csg_difference(cube, ball), GmshShapeOptions().mesh_size(0.25)));
  REQUIRE(solid.dim() == 3);
  REQUIRE(solid.measure() == Approx(1 - 4 * M_PI * 0.027 / 3).epsilon(0.03));
  Sampler sampler(SamplerOptions().seed(5), torch::kFloat64);
  auto b = solid.sample_boundary(300, sampler);
  REQUIRE_FALSE(solid.inside(b.points + 1e-4 * b.normals).any().item<bool>());
  REQUIRE(solid.inside(solid.sample_interior(300, sampler)).all().item<bool>());

  auto path = scratch("plate_yaml.msh").string();
  write_msh(mesh_with_gmsh(plate_with_hole(), GmshShapeOptions().mesh_size(0.1)), path);
  auto root = physis::config::Section::load_string("geometry:\n  mesh: {file: " + path + "}\n", "mesh.yaml");
  auto loaded = geometry_from_config(root.child("geometry"));
  REQUIRE(loaded->boundary_names() == std::vector<std::string>{"x_min", "x_max", "y_min", "y_max", "hole"});
  auto built = geometry_from_config(physis::config::Section::load_string(
      "geometry:\n  gmsh:\n    mesh_size: 0.1\n    shape: {disk: {center: [0, 0], radius: 1}}\n").child("geometry"));
  REQUIRE(built->measure() == Approx(M_PI).epsilon(0.02));
  REQUIRE_THROWS_WITH(geometry_from_config(physis::config::Section::load_string(
                          "geometry:\n  mesh: {file: missing.msh}\n", "m.yaml").child("geometry")),
                      Catch::Contains("m.yaml:2:") && Catch::Contains("cannot open mesh file"));
}

TEST_CASE("unreadable or missing .msh files give clear errors", "[geometry][mesh][errors]") {
  REQUIRE_THROWS_WITH(read_msh("/nonexistent/file.msh"),
                      Catch::Contains("cannot open") || Catch::Contains("without Gmsh"));
  auto broken = scratch("broken.msh").string();
  std::ofstream(broken) << "this is not a mesh\n$MeshFormat\ngarbage\n";
  REQUIRE_THROWS_AS(read_msh(broken), GeometryError);
  if (PHYSIS_HAVE_GMSH) REQUIRE_THROWS_WITH(read_msh(broken), !Catch::Contains("cannot open"));
  Mesh empty;
  empty.dim = 2;
  REQUIRE_THROWS_WITH(MeshGeometry(empty), Catch::Contains("no triangles"));
}

TEST_CASE("VTK: point clouds, meshes and grids are read back by VTK readers", "[geometry][vtk]") {
  auto points = torch::rand({50, 2}, torch::kFloat64);
  auto u = points.select(1, 0) * 2;
  auto grad = torch::stack({points.select(1, 1), points.select(1, 0), torch::zeros({50}, torch::kFloat64)}, 1);
  auto path = scratch("cloud.vtu").string();
  if (!PHYSIS_HAVE_VTK) {
    REQUIRE_THROWS_WITH(write_vtu(path, points, {{"u", u}}), Catch::Contains("without VTK"));
    return;
  }
  write_vtu(path, points.to(torch::kFloat32), {{"u", u}, {"grad", grad}});
  auto data = read_vtu(path);
  REQUIRE(data.points.sizes() == torch::IntArrayRef({50, 3}));
  REQUIRE(torch::allclose(data.points.slice(1, 0, 2), points, 1e-6, 1e-6));
  REQUIRE(torch::allclose(data.point_data.at("u"), u));
  REQUIRE(torch::allclose(data.point_data.at("grad"), grad));
  REQUIRE(data.cell_types.size(0) == 50);

  Mesh mesh = two_triangles();
  auto mesh_path = scratch("rect.vtu").string();
  write_vtu(mesh_path, mesh, {{"T", torch::arange(4, torch::kFloat64)}});
  auto back = read_vtu(mesh_path);
  REQUIRE(torch::equal(back.cell_types, torch::tensor({5, 5}, torch::kLong)));
  REQUIRE(torch::equal(back.connectivity, mesh.cells.flatten()));
  REQUIRE(torch::equal(back.offsets, torch::tensor({0, 3, 6}, torch::kLong)));
  REQUIRE(torch::allclose(back.point_data.at("T"), torch::arange(4, torch::kFloat64)));
  REQUIRE_THROWS_WITH(write_vtu(mesh_path, mesh, {{"bad", torch::zeros({3})}}), Catch::Contains("3 rows"));

  auto grid_path = scratch("grid.vti").string();
  write_vti(grid_path, {0, 0}, {0.5, 0.25}, {3, 5}, {{"phi", torch::arange(15, torch::kFloat64)}});
  std::stringstream text;
  text << std::ifstream(grid_path).rdbuf();
  REQUIRE_THAT(text.str(), Catch::Contains("ImageData") && Catch::Contains("Name=\"phi\"") &&
                               Catch::Contains("Spacing=\"0.5 0.25 1\""));
  REQUIRE_THROWS_AS(read_vtu(grid_path), GeometryError);  // an image is not an unstructured grid
}

TEST_CASE("pvd time series lists the files in order", "[geometry][vtk]") {
  auto path = scratch("series.pvd").string();
  write_pvd(path, {{0.0, "u_000.vtu"}, {0.5, "u_001.vtu"}});
  std::stringstream text;
  text << std::ifstream(path).rdbuf();
  const auto s = text.str();
  REQUIRE(s.find("timestep=\"0\"") < s.find("timestep=\"0.5\""));
  REQUIRE_THAT(s, Catch::Contains("file=\"u_001.vtu\"") && Catch::Contains("type=\"Collection\""));
  REQUIRE_THROWS_AS(write_pvd("/nonexistent/dir/x.pvd", {}), GeometryError);
}
