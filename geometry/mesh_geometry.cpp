#include "geometry/mesh_geometry.h"

#include "geometry/error.h"
#include "geometry/sampling_util.h"

#include <algorithm>

namespace physis::geometry {

namespace {

constexpr int64_t kChunkElements = int64_t{1} << 24;  // bound on N x F x d intermediates

// [N, F] distance from points x [N, d] to segments a-b [F, d] (any d).
torch::Tensor segment_distance(const torch::Tensor& x, const torch::Tensor& a, const torch::Tensor& b) {
  auto d = (b - a).unsqueeze(0);                                                    // [1, F, d]
  auto r = x.unsqueeze(1) - a.unsqueeze(0);                                         // [N, F, d]
  auto t = ((r * d).sum(-1) / d.pow(2).sum(-1).clamp_min(1e-300)).clamp(0, 1);      // [N, F]
  return torch::linalg_vector_norm(r - t.unsqueeze(-1) * d, 2, {-1});
}

// [N, F] distance from points x [N, 3] to triangles [F, 3, 3].
torch::Tensor triangle_distance(const torch::Tensor& x, const torch::Tensor& tri) {
  auto a = tri.select(1, 0), b = tri.select(1, 1), c = tri.select(1, 2);            // [F, 3]
  auto normal = torch::linalg_cross(b - a, c - a);
  normal = normal / torch::linalg_vector_norm(normal, 2, {1}, true);                // [F, 3]
  auto r = x.unsqueeze(1) - a.unsqueeze(0);                                         // [N, F, 3]
  auto height = (r * normal).sum(-1);                                               // [N, F]
  auto in_plane = r - height.unsqueeze(-1) * normal;                                // [N, F, 3]
  auto e1 = (b - a).unsqueeze(0), e2 = (c - a).unsqueeze(0);
  auto d11 = (e1 * e1).sum(-1), d12 = (e1 * e2).sum(-1), d22 = (e2 * e2).sum(-1);  // [1, F]
  auto p1 = (in_plane * e1).sum(-1), p2 = (in_plane * e2).sum(-1);                  // [N, F]
  auto det = d11 * d22 - d12 * d12;
  auto u = (d22 * p1 - d12 * p2) / det, v = (d11 * p2 - d12 * p1) / det;
  auto over_face = (u >= 0).logical_and(v >= 0).logical_and(u + v <= 1);
  auto edges = torch::minimum(torch::minimum(segment_distance(x, a, b), segment_distance(x, b, c)),
                              segment_distance(x, c, a));
  return torch::where(over_face, height.abs(), edges);
}

}  // namespace

MeshGeometry::MeshGeometry(Mesh mesh) : mesh_(std::move(mesh)) {
  const int64_t d = mesh_.dim;
  if (d != 2 && d != 3) throw GeometryError("a mesh geometry needs a 2-D or 3-D simplicial mesh, got dim " +
                                             std::to_string(d));
  if (!mesh_.cells.defined() || mesh_.cells.size(0) == 0)
    throw GeometryError("the mesh has no " + std::string(d == 2 ? "triangles" : "tetrahedra") +
                        "; mesh the domain (gmsh -" + std::to_string(d) + ") before using it as a geometry");
  auto nodes = mesh_.nodes.to(torch::kFloat64).slice(1, 0, d);                      // [M, d]
  vertices_ = nodes.index({mesh_.cells});                                           // [C, d+1, d]
  auto edges = (vertices_.slice(1, 1) - vertices_.slice(1, 0, 1)).transpose(1, 2);  // [C, d, d] columns = edges
  volumes_ = torch::linalg_det(edges).abs() / (d == 2 ? 2.0 : 6.0);                 // [C]
  if ((volumes_ <= 0).any().item<bool>())
    throw GeometryError("the mesh has degenerate (zero-volume) cells; remesh it");
  locator_.emplace(vertices_);
  facet_points_ = nodes.index({mesh_.facets});                                      // [F, d, d]
  auto fe = facet_points_.slice(1, 1) - facet_points_.slice(1, 0, 1);               // [F, d-1, d]
  torch::Tensor normals;
  if (d == 2) {
    normals = torch::stack({fe.select(1, 0).select(1, 1), -fe.select(1, 0).select(1, 0)}, 1);  // [F, 2]
  } else {
    normals = torch::linalg_cross(fe.select(1, 0), fe.select(1, 1));                          // [F, 3]
  }
  facet_sizes_ = torch::linalg_vector_norm(normals, 2, {1}) / (d == 2 ? 1.0 : 2.0);  // [F]
  normals = normals / torch::linalg_vector_norm(normals, 2, {1}, true);
  // Outward: a small step from the facet's centroid along the normal must leave the mesh.
  auto centroid = facet_points_.mean(1);                                             // [F, d]
  auto step = 1e-7 * diameter();
  auto flip = inside(centroid + step * normals).logical_and(inside(centroid - step * normals).logical_not());
  normals_ = torch::where(flip.unsqueeze(1), -normals, normals);
}

BoundingBox MeshGeometry::bounding_box() const {
  auto nodes = mesh_.nodes.slice(1, 0, mesh_.dim);
  auto lo = std::get<0>(nodes.min(0)).contiguous(), hi = std::get<0>(nodes.max(0)).contiguous();
  return {std::vector<double>(lo.data_ptr<double>(), lo.data_ptr<double>() + mesh_.dim),
          std::vector<double>(hi.data_ptr<double>(), hi.data_ptr<double>() + mesh_.dim)};
}

torch::Tensor MeshGeometry::inside(const torch::Tensor& x) const {
  check_points(x, dim(), "MeshGeometry::inside");
  return locator_->locate(x) >= 0;
}

torch::Tensor MeshGeometry::facet_distance(const torch::Tensor& x) const {
  const int64_t facets = facet_points_.size(0);
  const int64_t chunk = std::max<int64_t>(1, kChunkElements / (facets * 9));
  auto tri = facet_points_.to(x.device());
  std::vector<torch::Tensor> parts;
  for (int64_t start = 0; start < x.size(0); start += chunk) {
    auto xs = x.slice(0, start, start + chunk).to(torch::kFloat64);
    auto all = dim() == 2 ? segment_distance(xs, tri.select(1, 0), tri.select(1, 1)) : triangle_distance(xs, tri);
    parts.push_back(std::get<0>(all.min(1)));
  }
  if (parts.empty()) return torch::zeros({0}, x.options());
  return torch::cat(parts).to(x.scalar_type());
}

torch::Tensor MeshGeometry::on_boundary(const torch::Tensor& x, double tol) const {
  check_points(x, dim(), "MeshGeometry::on_boundary");
  return facet_distance(x) <= tol;
}

torch::Tensor MeshGeometry::distance(const torch::Tensor& x) const {
  check_points(x, dim(), "MeshGeometry::distance");
  auto sign = torch::where(inside(x), 1.0, -1.0).to(x.scalar_type());
  return sign * facet_distance(x);
}

torch::Tensor MeshGeometry::sample_interior(int64_t n, Sampler& sampler) const {
  const int64_t d = dim();
  auto opts = sampler.options();
  auto u = sampler.uniform(n, d + 1);                                               // [n, d + 1]
  auto cell = pick_by_weight(u.select(1, 0), volumes_).to(torch::kCPU);            // [n]
  auto corners = vertices_.index({cell}).to(opts);                                  // [n, d + 1, d]
  auto bary = simplex_barycentric(u.slice(1, 1));                                   // [n, d + 1]
  return (bary.unsqueeze(-1) * corners).sum(1);                                     // [n, d]
}

BoundaryPoints MeshGeometry::sample_boundary(int64_t n, Sampler& sampler) const {
  const int64_t d = dim();
  auto opts = sampler.options();
  auto u = sampler.uniform(n, d);                                                   // [n, d]
  auto facet = pick_by_weight(u.select(1, 0), facet_sizes_).to(torch::kCPU);       // [n]
  auto corners = facet_points_.index({facet}).to(opts);                             // [n, d, d]
  auto bary = simplex_barycentric(u.slice(1, 1));                                   // [n, d]
  auto points = (bary.unsqueeze(-1) * corners).sum(1);
  return {points, normals_.index({facet}).to(opts), mesh_.facet_piece.index({facet}).to(opts.device()),
          mesh_.boundary_names};
}

double MeshGeometry::measure() const { return volumes_.sum().item<double>(); }
double MeshGeometry::boundary_measure() const { return facet_sizes_.sum().item<double>(); }

}  // namespace physis::geometry
