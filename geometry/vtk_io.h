// ParaView output and input through VTK's XML formats.
//
//   write_vtu("u.vtu", points, {{"u", u}, {"grad_u", grad}});            // point cloud: [N, d], [N], [N, k]
//   write_vtu("plate.vtu", mesh, {{"u", u_at_nodes}});                  // triangles/tetrahedra
//   write_vti("field.vti", {0, 0}, {0.01, 0.01}, {101, 101}, {{"u", u}}); // regular grid, x fastest
//   write_pvd("series.pvd", {{0.0, "u_000.vtu"}, {0.1, "u_001.vtu"}});   // time series (plain XML)
//   auto data = read_vtu("u.vtu");                                       // points, cells, named point arrays
//
// Arrays follow the points: [N] scalars or [N, k] vectors, any device/dtype (written as float64). Without VTK
// (PHYSIS_HAVE_VTK == 0) the VTK-backed functions throw GeometryError saying so; write_pvd always works.
#pragma once

#include "geometry/mesh.h"

#include <torch/types.h>

#include <map>
#include <string>
#include <utility>
#include <vector>

namespace physis::geometry {

using NamedArrays = std::vector<std::pair<std::string, torch::Tensor>>;

void write_vtu(const std::string& path, const torch::Tensor& points, const NamedArrays& point_data = {});
void write_vtu(const std::string& path, const Mesh& mesh, const NamedArrays& point_data = {});
void write_vti(const std::string& path, const std::vector<double>& origin, const std::vector<double>& spacing,
               const std::vector<int64_t>& dims, const NamedArrays& point_data = {});
void write_pvd(const std::string& path, const std::vector<std::pair<double, std::string>>& time_files);

struct VtuData {
  torch::Tensor points;        // [N, 3] float64
  torch::Tensor connectivity;  // [K] int64 node indices of all cells, back to back
  torch::Tensor offsets;       // [C + 1] int64 start of each cell in connectivity
  torch::Tensor cell_types;    // [C] int64 VTK cell types (1 vertex, 5 triangle, 10 tetrahedron, ...)
  std::map<std::string, torch::Tensor> point_data;  // [N] or [N, k] float64
};
VtuData read_vtu(const std::string& path);

}  // namespace physis::geometry
