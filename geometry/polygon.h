// A simple (non-self-intersecting) polygon in 2-D; a triangle is a polygon with three vertices.
//
//   auto l_shape = std::make_shared<Polygon>(std::vector<Point2>{{0,0},{2,0},{2,1},{1,1},{1,2},{0,2}});
//
// Vertices in either orientation (stored counter-clockwise). Boundary pieces: edge0 ... edge{k-1}, edge i going
// from vertex i to vertex i+1 (as given), renameable. Interior sampling is exact (ear-clipping triangulation,
// triangles weighted by area). distance(): R_m-equivalence of the edges' normalised trimmed-segment ADFs,
// signed by inside() (negative outside), smooth away from the vertices. piece_distance(): the same over the named
// edges only, unsigned. A convex polygon can use the product of its edges' line distances instead
// (use_product_distance(), `distance: product`): a polynomial, smooth at the vertices to every order; its
// piece_distance() is then the product of the named edges' line distances, and join_distances() multiplies.
#pragma once

#include "geometry/adf.h"
#include "geometry/pieces.h"

namespace physis::geometry {

class Polygon : public Primitive {
 public:
  // Throws GeometryError for fewer than 3 vertices, repeated vertices, zero area or self-intersection.
  explicit Polygon(std::vector<Point2> vertices);

  int64_t dim() const override { return 2; }
  BoundingBox bounding_box() const override;
  torch::Tensor inside(const torch::Tensor& x) const override;
  torch::Tensor on_boundary(const torch::Tensor& x, double tol = 1e-6) const override;
  torch::Tensor sample_interior(int64_t n, Sampler& sampler) const override;
  BoundaryPoints sample_boundary(int64_t n, Sampler& sampler) const override;
  torch::Tensor distance(const torch::Tensor& x) const override;
  torch::Tensor piece_distance(const torch::Tensor& x, const std::vector<std::string>& pieces) const override;
  torch::Tensor join_distances(const torch::Tensor& phis) const override;
  double measure() const override { return area_; }
  double boundary_measure() const override;

  const std::vector<Point2>& vertices() const { return vertices_; }  // as given
  bool convex() const;
  // distance() becomes sign * prod_i d_i, d_i the distance to edge i's line (unit slope, positive inside): zero on
  // every edge, smooth everywhere, where the R-equivalence's derivatives above the second grow without bound at the
  // vertices (hard conditions of fourth-order equations). Throws GeometryError for a non-convex polygon, whose edge
  // lines cross its interior. piece_distance() and join_distances() become products as well, so hard conditions
  // given edge by edge (clamped on some, simply supported on others) stay smooth at the vertices too.
  void use_product_distance();

 private:
  // Edge endpoints in the given order: [E, 2] each, on the requested options.
  std::pair<torch::Tensor, torch::Tensor> edges(const torch::TensorOptions& options) const;
  torch::Tensor edge_distance(const torch::Tensor& x) const;  // [N, E] Euclidean distance to each edge
  // [E, 2] outward unit normals of the edges a -> b (as edges() returns them), for either orientation.
  torch::Tensor outward_normals(const torch::Tensor& a, const torch::Tensor& b) const;
  // [N, E] signed distances of x [N, 2] to the lines through the edges a -> b [E, 2], positive on the inner side.
  torch::Tensor line_distances(const torch::Tensor& x, const torch::Tensor& a, const torch::Tensor& b) const;

  std::vector<Point2> vertices_;
  bool clockwise_ = false;                    // given orientation; normals flip when true
  bool product_distance_ = false;
  double area_ = 0;
  std::vector<std::array<int, 3>> triangles_;  // ear-clipping triangulation
};

}  // namespace physis::geometry
