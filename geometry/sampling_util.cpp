#include "geometry/sampling_util.h"

#include "geometry/error.h"

#include <algorithm>

namespace physis::geometry {

torch::Tensor pick_by_weight(const torch::Tensor& u, const torch::Tensor& weights) {
  auto cdf = torch::cumsum(weights.to(torch::kFloat64), 0);            // [k]
  cdf = (cdf / cdf[-1]).to(u.device());
  auto index = torch::searchsorted(cdf, u.to(torch::kFloat64).contiguous(), /*out_int32=*/false, /*right=*/true);
  return index.clamp_max(weights.size(0) - 1);                          // [n]
}

torch::Tensor simplex_barycentric(const torch::Tensor& u) {
  const int64_t n = u.size(0);
  auto sorted = std::get<0>(u.sort(1));                                 // [n, k]
  auto zeros = torch::zeros({n, 1}, u.options());
  auto ones = torch::ones({n, 1}, u.options());
  auto edges = torch::cat({zeros, sorted, ones}, 1);                    // [n, k + 2]
  return edges.slice(1, 1) - edges.slice(1, 0, -1);                     // [n, k + 1]
}

namespace {

int64_t size_of(const torch::Tensor& t) { return t.size(0); }
int64_t size_of(const BoundaryPoints& b) { return b.size(); }
torch::Tensor keep_rows(const torch::Tensor& t, const torch::Tensor& mask) { return t.index({mask}); }
BoundaryPoints keep_rows(const BoundaryPoints& b, const torch::Tensor& mask) { return b.subset(mask); }
torch::Tensor first_rows(const torch::Tensor& t, int64_t n) { return t.slice(0, 0, n); }
BoundaryPoints first_rows(const BoundaryPoints& b, int64_t n) {
  return {b.points.slice(0, 0, n), b.normals.slice(0, 0, n), b.piece.slice(0, 0, n), b.names};
}
torch::Tensor join_rows(const std::vector<torch::Tensor>& parts) { return torch::cat(parts); }
BoundaryPoints join_rows(const std::vector<BoundaryPoints>& parts) { return BoundaryPoints::cat(parts); }

template <class Batch>
Batch accept_loop(int64_t n, int64_t dim, const std::function<Batch(int64_t)>& propose,
                  const std::function<torch::Tensor(const Batch&)>& keep, const std::string& what) {
  // Batches sized from the acceptance rate seen so far, capped so that one batch stays ~64M numbers.
  const int64_t cap = std::max<int64_t>(1024, (int64_t{1} << 26) / std::max<int64_t>(dim, 1));
  std::vector<Batch> kept;
  int64_t have = 0, proposed = 0, accepted = 0;
  for (int round = 0; have < n; ++round) {
    const double rate = proposed == 0 ? 0.8 : std::max(static_cast<double>(accepted) / proposed, 1e-3);
    const int64_t m = std::clamp<int64_t>(static_cast<int64_t>((n - have) / rate * 1.2) + 16, 16, cap);
    Batch batch = propose(m);
    Batch good = keep_rows(batch, keep(batch));
    proposed += m;
    accepted += size_of(good);
    have += size_of(good);
    if (size_of(good) > 0) kept.push_back(std::move(good));
    if (accepted == 0 && (proposed >= 200000 || round >= 50))
      throw GeometryError(what + ": none of " + std::to_string(proposed) +
                          " candidate points was accepted; the domain (or boundary selection) is empty or has "
                          "zero measure — check the shapes, their sizes and the CSG operands");
    if (round >= 10000)
      throw GeometryError(what + ": acceptance rate too small to draw " + std::to_string(n) +
                          " points; enlarge the domain or sample its parts directly");
  }
  return n == 0 ? first_rows(propose(1), 0) : first_rows(join_rows(kept), n);
}

}  // namespace

torch::Tensor accept_until(int64_t n, int64_t dim, const std::function<torch::Tensor(int64_t)>& propose,
                           const std::function<torch::Tensor(const torch::Tensor&)>& keep, const std::string& what) {
  return accept_loop<torch::Tensor>(n, dim, propose, keep, what);
}

BoundaryPoints accept_until(int64_t n, int64_t dim, const std::function<BoundaryPoints(int64_t)>& propose,
                            const std::function<torch::Tensor(const BoundaryPoints&)>& keep,
                            const std::string& what) {
  return accept_loop<BoundaryPoints>(n, dim, propose, keep, what);
}

torch::Tensor to_tensor(const std::vector<double>& values, const torch::TensorOptions& options) {
  return torch::tensor(values, torch::kFloat64).to(options);
}

}  // namespace physis::geometry
