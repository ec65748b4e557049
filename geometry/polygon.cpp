#include "geometry/polygon.h"

#include "geometry/error.h"
#include "geometry/sampling_util.h"

#include <algorithm>
#include <cmath>

namespace physis::geometry {

namespace {

double cross(const Point2& o, const Point2& a, const Point2& b) {
  return (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0]);
}

bool segments_intersect(const Point2& p1, const Point2& p2, const Point2& q1, const Point2& q2) {
  const double d1 = cross(q1, q2, p1), d2 = cross(q1, q2, p2), d3 = cross(p1, p2, q1), d4 = cross(p1, p2, q2);
  if (((d1 > 0 && d2 < 0) || (d1 < 0 && d2 > 0)) && ((d3 > 0 && d4 < 0) || (d3 < 0 && d4 > 0))) return true;
  auto on = [](const Point2& a, const Point2& b, const Point2& p, double c) {
    return c == 0 && std::min(a[0], b[0]) <= p[0] && p[0] <= std::max(a[0], b[0]) &&
           std::min(a[1], b[1]) <= p[1] && p[1] <= std::max(a[1], b[1]);
  };
  return on(q1, q2, p1, d1) || on(q1, q2, p2, d2) || on(p1, p2, q1, d3) || on(p1, p2, q2, d4);
}

bool point_in_triangle(const Point2& p, const Point2& a, const Point2& b, const Point2& c) {
  return cross(a, b, p) >= 0 && cross(b, c, p) >= 0 && cross(c, a, p) >= 0;
}

// Ear clipping of a counter-clockwise simple polygon (O(k^3) worst case; polygons here are small).
std::vector<std::array<int, 3>> ear_clip(const std::vector<Point2>& v, const std::vector<int>& ccw_order) {
  std::vector<int> remaining = ccw_order;
  std::vector<std::array<int, 3>> triangles;
  while (remaining.size() > 3) {
    bool clipped = false;
    const size_t k = remaining.size();
    for (size_t i = 0; i < k && !clipped; ++i) {
      const int a = remaining[(i + k - 1) % k], b = remaining[i], c = remaining[(i + 1) % k];
      if (cross(v[a], v[b], v[c]) <= 0) continue;  // reflex or degenerate corner
      bool empty = true;
      for (int other : remaining)
        if (other != a && other != b && other != c && point_in_triangle(v[other], v[a], v[b], v[c])) empty = false;
      if (!empty) continue;
      triangles.push_back({a, b, c});
      remaining.erase(remaining.begin() + static_cast<long>(i));
      clipped = true;
    }
    if (!clipped) throw GeometryError("polygon triangulation failed: the polygon has collinear or overlapping "
                                      "edges; remove duplicate or collinear vertices");
  }
  triangles.push_back({remaining[0], remaining[1], remaining[2]});
  return triangles;
}

}  // namespace

Polygon::Polygon(std::vector<Point2> vertices) : Primitive({}), vertices_(std::move(vertices)) {
  const size_t k = vertices_.size();
  if (k < 3) throw GeometryError("a polygon needs at least 3 vertices, got " + std::to_string(k));
  std::vector<std::string> names;
  for (size_t i = 0; i < k; ++i) {
    const auto& p = vertices_[i];
    const auto& q = vertices_[(i + 1) % k];
    if (p == q) throw GeometryError("polygon vertices " + std::to_string(i) + " and " + std::to_string((i + 1) % k) +
                                    " coincide; remove the duplicate (do not repeat the first vertex at the end)");
    names.push_back("edge" + std::to_string(i));
  }
  pieces_ = PieceNames(names);
  for (size_t i = 0; i < k; ++i)
    for (size_t j = i + 1; j < k; ++j) {
      const bool adjacent = j == i + 1 || (i == 0 && j == k - 1);
      if (!adjacent && segments_intersect(vertices_[i], vertices_[(i + 1) % k], vertices_[j], vertices_[(j + 1) % k]))
        throw GeometryError("polygon is self-intersecting: edge " + std::to_string(i) + " crosses edge " +
                            std::to_string(j) + "; list the vertices in order around the boundary");
    }
  double twice_area = 0;
  for (size_t i = 0; i < k; ++i) twice_area += cross({0, 0}, vertices_[i], vertices_[(i + 1) % k]);
  if (std::abs(twice_area) <= 1e-14 * boundary_measure() * boundary_measure())
    throw GeometryError("polygon has zero area: its vertices are collinear");
  clockwise_ = twice_area < 0;
  area_ = std::abs(twice_area) / 2;
  std::vector<int> order(k);
  for (size_t i = 0; i < k; ++i) order[i] = static_cast<int>(clockwise_ ? k - 1 - i : i);
  triangles_ = ear_clip(vertices_, order);
}

BoundingBox Polygon::bounding_box() const {
  BoundingBox box{{vertices_[0][0], vertices_[0][1]}, {vertices_[0][0], vertices_[0][1]}};
  for (const auto& p : vertices_)
    for (int i = 0; i < 2; ++i) {
      box.lower[i] = std::min(box.lower[i], p[i]);
      box.upper[i] = std::max(box.upper[i], p[i]);
    }
  return box;
}

std::pair<torch::Tensor, torch::Tensor> Polygon::edges(const torch::TensorOptions& options) const {
  std::vector<double> flat;
  for (const auto& p : vertices_) flat.insert(flat.end(), {p[0], p[1]});
  auto a = to_tensor(flat, options).reshape({-1, 2});                              // [E, 2]
  return {a, a.roll(-1, 0)};
}

torch::Tensor Polygon::inside(const torch::Tensor& x) const {
  check_points(x, 2, "Polygon::inside");
  // Crossing number with a ray towards +x, all edges at once; boundary points count as inside.
  auto [a, b] = edges(x.options());
  auto px = x.select(1, 0).unsqueeze(1), py = x.select(1, 1).unsqueeze(1);          // [N, 1]
  auto ax = a.select(1, 0), ay = a.select(1, 1), bx = b.select(1, 0), by = b.select(1, 1);  // [E]
  auto straddles = (ay > py) != (by > py);                                          // [N, E]
  auto x_cross = ax + (py - ay) * (bx - ax) / torch::where(by == ay, torch::ones_like(by), by - ay);
  auto crossings = straddles.logical_and(px < x_cross).sum(1);                      // [N]
  return torch::remainder(crossings, 2).eq(1).logical_or(on_boundary(x, 1e-12 * diameter()));
}

torch::Tensor Polygon::edge_distance(const torch::Tensor& x) const {
  auto [a, b] = edges(x.options());
  auto d = b - a;                                                                   // [E, 2]
  auto r = x.unsqueeze(1) - a.unsqueeze(0);                                         // [N, E, 2]
  auto t = ((r * d).sum(-1) / d.pow(2).sum(-1)).clamp(0, 1);                        // [N, E]
  return torch::linalg_vector_norm(r - t.unsqueeze(-1) * d, 2, {-1});               // [N, E]
}

torch::Tensor Polygon::on_boundary(const torch::Tensor& x, double tol) const {
  check_points(x, 2, "Polygon::on_boundary");
  return std::get<0>(edge_distance(x).min(1)) <= tol;
}

torch::Tensor Polygon::sample_interior(int64_t n, Sampler& sampler) const {
  auto opts = sampler.options();
  std::vector<double> corners, areas;
  for (const auto& t : triangles_) {
    for (int i : t) corners.insert(corners.end(), {vertices_[i][0], vertices_[i][1]});
    areas.push_back(std::abs(cross(vertices_[t[0]], vertices_[t[1]], vertices_[t[2]])) / 2);
  }
  auto tri = to_tensor(corners, opts).reshape({-1, 3, 2});                          // [T, 3, 2]
  auto u = sampler.uniform(n, 3);                                                   // [n, 3]
  auto which = pick_by_weight(u.select(1, 0), to_tensor(areas, opts));              // [n]
  auto bary = simplex_barycentric(u.slice(1, 1));                                   // [n, 3]
  return (bary.unsqueeze(-1) * tri.index({which})).sum(1);                          // [n, 2]
}

torch::Tensor Polygon::outward_normals(const torch::Tensor& a, const torch::Tensor& b) const {
  auto d = b - a;                                                                   // [E, 2]
  auto length = torch::linalg_vector_norm(d, 2, {1});                               // [E]
  // (dy, -dx) points right of the direction of travel: outward for counter-clockwise vertices.
  auto normals = torch::stack({d.select(1, 1), -d.select(1, 0)}, 1) / length.unsqueeze(1);
  return clockwise_ ? -normals : normals;
}

torch::Tensor Polygon::line_distances(const torch::Tensor& x, const torch::Tensor& a, const torch::Tensor& b) const {
  auto inward = -outward_normals(a, b);                                             // [E, 2]
  return ((x.unsqueeze(1) - a.unsqueeze(0)) * inward.unsqueeze(0)).sum(2);         // [N, E]
}

BoundaryPoints Polygon::sample_boundary(int64_t n, Sampler& sampler) const {
  auto [a, b] = edges(sampler.options());
  auto d = b - a;                                                                   // [E, 2]
  auto length = torch::linalg_vector_norm(d, 2, {1});                               // [E]
  auto u = sampler.uniform(n, 2);                                                   // [n, 2]
  auto edge = pick_by_weight(u.select(1, 0), length);                               // [n]
  auto points = a.index({edge}) + u.select(1, 1).unsqueeze(1) * d.index({edge});    // [n, 2]
  return make_boundary(points, outward_normals(a, b).index({edge}), edge);
}

bool Polygon::convex() const {
  const size_t k = vertices_.size();
  for (size_t i = 0; i < k; ++i) {
    const double turn = cross(vertices_[i], vertices_[(i + 1) % k], vertices_[(i + 2) % k]);
    if (clockwise_ ? turn > 0 : turn < 0) return false;
  }
  return true;
}

void Polygon::use_product_distance() {
  if (!convex())
    throw GeometryError("distance: product needs a convex polygon (the lines of a non-convex polygon's edges cross "
                        "its interior); use the default distance, or split the domain");
  product_distance_ = true;
}

torch::Tensor Polygon::distance(const torch::Tensor& x) const {
  check_points(x, 2, "Polygon::distance");
  auto [a, b] = edges(x.options());
  if (product_distance_) {
    auto product = product_distance(line_distances(x, a, b));
    // Inside (edges included) the product itself, so its gradient on an edge is the edge's; outside, -|product|.
    return torch::where(inside(x), product, -product.abs());
  }
  auto unsigned_phi = r_equivalence(segments_adf(x, a, b));                          // [N], >= 0
  auto sign = torch::where(inside(x), 1.0, -1.0).to(x.scalar_type());
  return sign * unsigned_phi;
}

torch::Tensor Polygon::piece_distance(const torch::Tensor& x, const std::vector<std::string>& pieces) const {
  check_points(x, 2, "Polygon::piece_distance");
  auto chosen = torch::tensor(pieces_.members(pieces), torch::kLong).to(x.device());  // [E'] edge numbers
  auto [a, b] = edges(x.options());
  a = a.index_select(0, chosen);
  b = b.index_select(0, chosen);
  if (product_distance_) return product_distance(line_distances(x, a, b));  // [N], >= 0 in the polygon
  return r_equivalence(segments_adf(x, a, b));                              // [N], >= 0
}

torch::Tensor Polygon::join_distances(const torch::Tensor& phis) const {
  return product_distance_ ? product_distance(phis) : r_equivalence(phis);
}

double Polygon::boundary_measure() const {
  double sum = 0;
  for (size_t i = 0; i < vertices_.size(); ++i) {
    const auto& p = vertices_[i];
    const auto& q = vertices_[(i + 1) % vertices_.size()];
    sum += std::hypot(q[0] - p[0], q[1] - p[1]);
  }
  return sum;
}

}  // namespace physis::geometry
