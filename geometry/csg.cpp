#include "geometry/csg.h"

#include "geometry/adf.h"
#include "geometry/error.h"
#include "geometry/sampling_util.h"

#include <algorithm>
#include <cmath>

namespace physis::geometry {

namespace {

torch::Tensor closed(const Geometry& g, const torch::Tensor& x, double tol) {
  return g.inside(x).logical_or(g.on_boundary(x, tol));
}

// Random order for a batch, so truncating concatenated batches does not favour the first operand.
torch::Tensor shuffled_order(int64_t m, Sampler& sampler) {
  return sampler.permutation(m);
}

int64_t share(int64_t m, double weight_a, double weight_b) {
  const double total = weight_a + weight_b;
  return total > 0 ? std::clamp<int64_t>(std::llround(m * weight_a / total), 0, m) : m / 2;
}

// [N] distance of the named pieces that the operand `own` holds, trimmed to where `keep` >= 0 (where its boundary
// is the result's) and to its own boundary; undefined when it holds none of them.
torch::Tensor operand_piece_distance(const Geometry& own, const std::vector<std::string>& pieces,
                                     const torch::Tensor& keep, const torch::Tensor& x) {
  std::vector<std::string> named, others;
  for (const auto& name : own.boundary_names())
    (std::find(pieces.begin(), pieces.end(), name) != pieces.end() ? named : others).push_back(name);
  if (named.empty()) return {};
  // A piece distance may vanish past its pieces outside the operand (a box face's plane): the other pieces'
  // distance, negative out there, trims it back to the operand. For a single-piece operand nothing is needed.
  auto within = others.empty() ? keep : r0_conjunction(keep, own.piece_distance(x, others));
  return trimmed_adf(own.piece_distance(x, named), within);
}

}  // namespace

Csg::Csg(CsgOperation operation, GeometryPtr a, GeometryPtr b)
    : operation_(operation), a_(std::move(a)), b_(std::move(b)) {
  if (!a_ || !b_) throw GeometryError("a CSG operation needs two geometries, got a null operand");
  if (a_->dim() != b_->dim())
    throw GeometryError("CSG operands must have one dimension, got " + std::to_string(a_->dim()) + "-D and " +
                        std::to_string(b_->dim()) + "-D");
  auto add = [&](const std::vector<std::string>& names, std::vector<int64_t>& map) {
    for (const auto& name : names) {
      auto it = std::find(names_.begin(), names_.end(), name);
      map.push_back(it - names_.begin());
      if (it == names_.end()) names_.push_back(name);
    }
  };
  add(a_->boundary_names(), a_to_name_);
  add(b_->boundary_names(), b_to_name_);
  tol_ = 1e-9 * std::max(a_->diameter(), b_->diameter());
}

BoundingBox Csg::bounding_box() const {
  auto box = a_->bounding_box();
  const auto other = b_->bounding_box();
  for (size_t i = 0; i < box.lower.size(); ++i) {
    if (operation_ == CsgOperation::union_of) {
      box.lower[i] = std::min(box.lower[i], other.lower[i]);
      box.upper[i] = std::max(box.upper[i], other.upper[i]);
    } else if (operation_ == CsgOperation::intersection) {
      box.lower[i] = std::max(box.lower[i], other.lower[i]);
      box.upper[i] = std::min(box.upper[i], other.upper[i]);
    }
  }
  return box;
}

torch::Tensor Csg::inside(const torch::Tensor& x) const {
  switch (operation_) {
    case CsgOperation::union_of: return a_->inside(x).logical_or(b_->inside(x));
    case CsgOperation::intersection: return a_->inside(x).logical_and(b_->inside(x));
    case CsgOperation::difference: return a_->inside(x).logical_and(b_->interior(x, tol_).logical_not());
  }
  throw GeometryError("unreachable CSG operation");
}

// Boundary of the result restricted to one operand's boundary: which of its boundary points x to keep.
torch::Tensor Csg::keep_boundary_of(const Geometry& other, bool own_is_b, const torch::Tensor& x) const {
  const bool must_avoid_other =
      operation_ == CsgOperation::union_of || (operation_ == CsgOperation::difference && !own_is_b);
  // Union, or A's wall in A - B: not swallowed by the other operand. Intersection, or the hole's wall: in it.
  return must_avoid_other ? other.interior(x, tol_).logical_not() : closed(other, x, tol_);
}

torch::Tensor Csg::on_boundary(const torch::Tensor& x, double tol) const {
  auto on_a = a_->on_boundary(x, tol).logical_and(keep_boundary_of(*b_, false, x));
  auto on_b = b_->on_boundary(x, tol).logical_and(keep_boundary_of(*a_, true, x));
  return on_a.logical_or(on_b);
}

torch::Tensor Csg::sample_interior(int64_t n, Sampler& sampler) const {
  if (operation_ != CsgOperation::union_of) {
    // Points of A that are (not) in B.
    const bool want_in_b = operation_ == CsgOperation::intersection;
    return accept_until(
        n, dim(), [&](int64_t m) { return a_->sample_interior(m, sampler); },
        [&](const torch::Tensor& x) { return want_in_b ? b_->inside(x) : b_->inside(x).logical_not(); },
        want_in_b ? "CSG intersection interior" : "CSG difference interior");
  }
  // Union: A's points, plus B's points outside A, in proportion to |A| and |B| -> uniform on A u B.
  auto propose = [&](int64_t m) {
    const int64_t m_a = share(m, a_->measure(), b_->measure());
    auto xa = a_->sample_interior(m_a, sampler), xb = b_->sample_interior(m - m_a, sampler);
    auto keep = torch::cat({torch::ones({m_a}, xa.options().dtype(torch::kBool)), a_->inside(xb).logical_not()});
    auto x = torch::cat({xa, xb}).index({keep});
    return x.index({shuffled_order(x.size(0), sampler)});
  };
  return accept_until(n, dim(), propose, [](const torch::Tensor& x) {
    return torch::ones({x.size(0)}, x.options().dtype(torch::kBool));
  }, "CSG union interior");
}

BoundaryPoints Csg::propose_boundary(int64_t m, Sampler& sampler, torch::Tensor& keep) const {
  const int64_t m_a = share(m, a_->boundary_measure(), b_->boundary_measure());
  auto ba = a_->sample_boundary(m_a, sampler);
  auto bb = b_->sample_boundary(m - m_a, sampler);
  auto device = ba.points.device();
  auto remap_a = torch::tensor(a_to_name_, torch::kLong).to(device);
  auto remap_b = torch::tensor(b_to_name_, torch::kLong).to(device);
  const double flip = operation_ == CsgOperation::difference ? -1.0 : 1.0;  // a hole's wall faces into the hole
  BoundaryPoints all{torch::cat({ba.points, bb.points}), torch::cat({ba.normals, flip * bb.normals}),
                     torch::cat({remap_a.index({ba.piece}), remap_b.index({bb.piece})}), names_};
  keep = torch::cat({keep_boundary_of(*b_, false, ba.points), keep_boundary_of(*a_, true, bb.points)});
  return all;
}

BoundaryPoints Csg::sample_boundary(int64_t n, Sampler& sampler) const {
  auto propose = [&](int64_t m) {
    torch::Tensor keep;
    auto candidates = propose_boundary(m, sampler, keep).subset(keep);
    return candidates.subset(shuffled_order(candidates.size(), sampler));
  };
  auto everything = [](const BoundaryPoints& b) {
    return torch::ones({b.size()}, b.points.options().dtype(torch::kBool));
  };
  return accept_until(n, dim(), propose, everything, "CSG boundary");
}

torch::Tensor Csg::distance(const torch::Tensor& x) const {
  auto phi_a = a_->distance(x), phi_b = b_->distance(x);
  switch (operation_) {
    case CsgOperation::union_of: return r0_disjunction(phi_a, phi_b);
    case CsgOperation::intersection: return r0_conjunction(phi_a, phi_b);
    case CsgOperation::difference: return r0_conjunction(phi_a, -phi_b);
  }
  throw GeometryError("unreachable CSG operation");
}

torch::Tensor Csg::piece_distance(const torch::Tensor& x, const std::vector<std::string>& pieces) const {
  check_points(x, dim(), "Csg::piece_distance");
  if (names_whole_boundary(pieces)) return distance(x);
  // Where each operand's boundary is the result's (as keep_boundary_of, >= 0 there): outside the other operand
  // for a union and for A's walls in A - B, inside it for an intersection and for the hole's walls.
  auto phi_a = a_->distance(x), phi_b = b_->distance(x);                               // [N]
  auto keep_a = operation_ == CsgOperation::intersection ? phi_b : -phi_b;
  auto keep_b = operation_ == CsgOperation::union_of ? -phi_a : phi_a;
  std::vector<torch::Tensor> parts;
  for (auto [own, keep] : {std::pair{a_.get(), keep_a}, std::pair{b_.get(), keep_b}}) {
    auto part = operand_piece_distance(*own, pieces, keep, x);
    if (part.defined()) parts.push_back(part);
  }
  return parts.size() == 1 ? parts.front() : r_equivalence(torch::stack(parts, 1));  // [N]
}

void Csg::estimate_measures() const {
  // Scrambled Sobol points (random ones above Sobol's dimension limit) on the CPU in double precision, with a
  // fixed seed: the estimate is deterministic, its error ~1e-4 (area) to ~1e-3 (boundary) relative in 2-D/3-D.
  const int64_t d = dim();
  const int64_t n = std::clamp<int64_t>((int64_t{1} << 22) / d, 256, int64_t{1} << 16);
  Sampler sampler(SamplerOptions().kind(d <= 21201 ? SamplerKind::sobol : SamplerKind::random).seed(12345),
                  torch::kFloat64);
  auto fraction = [](const torch::Tensor& mask) { return mask.to(torch::kFloat64).mean().item<double>(); };
  switch (operation_) {
    case CsgOperation::union_of:
      measure_ = a_->measure() + b_->measure() * fraction(a_->inside(b_->sample_interior(n, sampler)).logical_not());
      break;
    case CsgOperation::intersection:
      measure_ = a_->measure() * fraction(b_->inside(a_->sample_interior(n, sampler)));
      break;
    case CsgOperation::difference:
      measure_ = a_->measure() * fraction(b_->inside(a_->sample_interior(n, sampler)).logical_not());
      break;
  }
  auto ba = a_->sample_boundary(n, sampler).points, bb = b_->sample_boundary(n, sampler).points;
  boundary_measure_ = a_->boundary_measure() * fraction(keep_boundary_of(*b_, false, ba)) +
                      b_->boundary_measure() * fraction(keep_boundary_of(*a_, true, bb));
}

double Csg::measure() const {
  std::call_once(estimated_, [this] { estimate_measures(); });
  return measure_;
}

double Csg::boundary_measure() const {
  std::call_once(estimated_, [this] { estimate_measures(); });
  return boundary_measure_;
}

GeometryPtr csg_union(GeometryPtr a, GeometryPtr b) {
  return std::make_shared<Csg>(CsgOperation::union_of, std::move(a), std::move(b));
}
GeometryPtr csg_difference(GeometryPtr a, GeometryPtr b) {
  return std::make_shared<Csg>(CsgOperation::difference, std::move(a), std::move(b));
}
GeometryPtr csg_intersection(GeometryPtr a, GeometryPtr b) {
  return std::make_shared<Csg>(CsgOperation::intersection, std::move(a), std::move(b));
}

}  // namespace physis::geometry
