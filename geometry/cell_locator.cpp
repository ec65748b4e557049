#include "geometry/cell_locator.h"

#include "geometry/error.h"

#include <algorithm>
#include <cmath>
#include <optional>
#include <string>
#include <vector>

namespace physis::geometry {

namespace {

constexpr int64_t kMaxBinsPerAxis = 1024;

}  // namespace

CellLocator::CellLocator(const torch::Tensor& vertices, double eps) : eps_(eps) {
  if (vertices.dim() != 3 || vertices.size(1) != vertices.size(2) + 1 || vertices.size(0) == 0)
    throw GeometryError("CellLocator needs [C, d + 1, d] simplex corners");
  auto v = vertices.to(torch::kCPU, torch::kFloat64).contiguous();
  const int64_t cells = v.size(0);
  dim_ = v.size(2);
  origin_ = v.select(1, 0).contiguous();                                             // [C, d]
  inverse_ = torch::linalg_inv((v.slice(1, 1) - origin_.unsqueeze(1)).transpose(1, 2)).contiguous();

  auto cell_lo = v.amin(1), cell_hi = v.amax(1);                                     // [C, d]
  auto lo = cell_lo.amin(0), hi = cell_hi.amax(0);                                   // [d]
  const double diameter = torch::linalg_vector_norm(hi - lo, 2, {0}).item<double>();
  const double pad = 1e-9 * std::max(diameter, 1e-300);
  lo_ = lo - pad;
  auto extent = (hi + pad) - lo_;
  // About one cell per bin: bin edge h with (extent_0 / h) ... (extent_{d-1} / h) = C.
  auto ext = extent.contiguous();
  const double* e = ext.data_ptr<double>();
  double volume = 1;
  for (int64_t i = 0; i < dim_; ++i) volume *= e[i];
  const double h = std::pow(volume / static_cast<double>(cells), 1.0 / static_cast<double>(dim_));
  std::vector<int64_t> shape(dim_), strides(dim_);
  int64_t bins = 1;
  for (int64_t i = dim_ - 1; i >= 0; --i) {
    shape[i] = std::clamp<int64_t>(static_cast<int64_t>(std::ceil(e[i] / h)), 1, kMaxBinsPerAxis);
    strides[i] = bins;
    bins *= shape[i];
  }
  shape_ = torch::tensor(shape, torch::kLong);
  strides_ = torch::tensor(strides, torch::kLong);
  width_ = extent / shape_.to(torch::kFloat64);

  // Every (cell, bin) pair of the bins a cell's padded bounding box overlaps.
  auto last = shape_ - 1;
  auto first_bin = torch::floor((cell_lo - pad - lo_) / width_).to(torch::kLong).clamp(0).minimum(last);
  auto last_bin = torch::floor((cell_hi + pad - lo_) / width_).to(torch::kLong).clamp(0).minimum(last);
  auto span = last_bin - first_bin + 1;                                               // [C, d]
  auto count = span.prod(1);                                                         // [C]
  auto owner = torch::repeat_interleave(torch::arange(cells, torch::kLong), count);  // [P]
  auto local = torch::arange(owner.size(0), torch::kLong) - (count.cumsum(0) - count).index({owner});
  auto flat = torch::zeros_like(owner);
  for (int64_t i = dim_ - 1; i >= 0; --i) {
    auto s = span.select(1, i).index({owner});
    flat += (first_bin.select(1, i).index({owner}) + local.remainder(s)) * strides[i];
    local = local.div(s, "floor");
  }
  auto order = std::get<1>(flat.sort(std::optional<bool>(true), /*dim=*/0, /*descending=*/false));
  cells_ = owner.index({order}).contiguous();
  auto per_bin = torch::bincount(flat, {}, bins);
  start_ = torch::cat({torch::zeros({1}, torch::kLong), per_bin.cumsum(0)});
  max_per_bin_ = per_bin.max().item<int64_t>();
}

torch::Tensor CellLocator::bins_of(const torch::Tensor& x) const {
  auto index = torch::floor((x - lo_) / width_).to(torch::kLong);                    // [N, d]
  auto valid = (index >= 0).logical_and(index < shape_).all(1);
  return torch::where(valid, (index * strides_).sum(1), -1);
}

torch::Tensor CellLocator::locate(const torch::Tensor& x) const {
  if (x.dim() != 2 || x.size(1) != dim_)
    throw GeometryError("CellLocator::locate needs [N, " + std::to_string(dim_) + "] points");
  auto xs = x.to(torch::kCPU, torch::kFloat64).contiguous();
  auto result = torch::full({xs.size(0)}, -1, torch::kLong);
  auto bin = bins_of(xs);
  auto valid = bin >= 0;
  auto safe = bin.clamp_min(0);
  auto begin = start_.index({safe});
  auto count = torch::where(valid, start_.index({safe + 1}) - begin, 0);
  for (int64_t k = 0; k < max_per_bin_; ++k) {
    auto ids = (count > k).logical_and(result < 0).nonzero().squeeze(1);
    if (ids.numel() == 0) break;
    auto cell = cells_.index({begin.index({ids}) + k});
    auto rel = xs.index({ids}) - origin_.index({cell});                             // [n, d]
    auto lambda = torch::bmm(inverse_.index({cell}), rel.unsqueeze(-1)).squeeze(-1);  // [n, d]
    auto hit = (lambda >= -eps_).all(1).logical_and(lambda.sum(1) <= 1 + eps_);
    result.index_put_({ids.masked_select(hit)}, cell.masked_select(hit));
  }
  return result.to(x.device());
}

}  // namespace physis::geometry
