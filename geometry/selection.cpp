#include "geometry/selection.h"
#include "core/strings.h"

#include "geometry/error.h"
#include "geometry/sampling_util.h"

#include <algorithm>
#include <sstream>

namespace physis::geometry {

namespace {

PointPredicate parse_comparison(const std::string& text, const std::vector<std::string>& names, double tol) {
  static const std::vector<std::string> operators{"==", "!=", "<=", ">=", "<", ">"};
  for (const auto& op : operators) {
    const auto at = text.find(op);
    if (at == std::string::npos) continue;
    const std::string coord = trim(text.substr(0, at)), number = trim(text.substr(at + op.size()));
    const auto it = std::find(names.begin(), names.end(), coord);
    if (it == names.end())
      throw GeometryError("unknown coordinate '" + coord + "' in '" + text + "'; coordinates are " + join(names));
    double value = 0;
    std::istringstream in(number);
    if (!(in >> value) || !(in >> std::ws).eof())
      throw GeometryError("expected a number after '" + op + "' in '" + text + "', got '" + number + "'");
    const int64_t axis = it - names.begin();
    return [axis, op, value, tol](const torch::Tensor& x) {
      auto c = x.select(1, axis);
      if (op == "==") return (c - value).abs() <= tol;
      if (op == "!=") return (c - value).abs() > tol;
      if (op == "<=") return c <= value + tol;
      if (op == ">=") return c >= value - tol;
      if (op == "<") return c < value - tol;
      return c > value + tol;
    };
  }
  throw GeometryError("cannot read the condition '" + text + "': write `coordinate OP number` with OP one of "
                      "== != < <= > >= (e.g. 'x == 0'), joined by &&");
}

}  // namespace

PointPredicate parse_predicate(const std::string& text, const std::vector<std::string>& coordinate_names,
                               double tol) {
  std::vector<PointPredicate> terms;
  size_t start = 0;
  while (true) {
    const auto at = text.find("&&", start);
    terms.push_back(parse_comparison(text.substr(start, at == std::string::npos ? std::string::npos : at - start),
                                     coordinate_names, tol));
    if (at == std::string::npos) break;
    start = at + 2;
  }
  const int64_t dim = static_cast<int64_t>(coordinate_names.size());
  return [terms, dim](const torch::Tensor& x) {
    check_points(x, dim, "boundary predicate");
    auto mask = terms.front()(x);
    for (size_t i = 1; i < terms.size(); ++i) mask = mask.logical_and(terms[i](x));
    return mask;
  };
}

torch::Tensor select_boundary(const BoundaryPoints& b, const BoundarySelector& selector) {
  auto mask = torch::ones({b.size()}, b.piece.options().dtype(torch::kBool));
  if (!selector.pieces.empty()) {
    auto any = torch::zeros_like(mask);
    for (const auto& name : selector.pieces) {
      if (std::find(b.names.begin(), b.names.end(), name) == b.names.end())
        throw GeometryError("no boundary piece called '" + name + "'; this geometry's pieces are " +
                            join(b.names));
      any = any.logical_or(b.mask(name));
    }
    mask = any;
  }
  if (selector.predicate) mask = mask.logical_and(selector.predicate(b.points));
  return mask;
}

BoundaryPoints sample_boundary_where(const Geometry& geometry, int64_t n, Sampler& sampler,
                                     const BoundarySelector& selector) {
  return accept_until(
      n, geometry.dim(), [&](int64_t m) { return geometry.sample_boundary(m, sampler); },
      [&](const BoundaryPoints& b) { return select_boundary(b, selector); }, "boundary selection");
}

}  // namespace physis::geometry
