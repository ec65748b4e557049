#include "geometry/pieces.h"

#include "geometry/error.h"

#include <algorithm>
#include <unordered_map>

namespace physis::geometry {

PieceNames::PieceNames(std::vector<std::string> defaults) : defaults_(std::move(defaults)) { rebuild(defaults_); }

void PieceNames::rename(const std::map<std::string, std::string>& renames) {
  std::vector<std::string> per_piece = current_;
  for (const auto& [from, to] : renames) {
    bool found = false;
    for (size_t i = 0; i < per_piece.size(); ++i)
      if (current_[i] == from || defaults_[i] == from) {
        per_piece[i] = to;
        found = true;
      }
    if (!found) {
      std::string known;
      for (const auto& name : names_) known += (known.empty() ? "" : ", ") + name;
      throw GeometryError("cannot rename boundary piece '" + from + "': this shape's pieces are " + known);
    }
  }
  rebuild(per_piece);
}

std::vector<int64_t> PieceNames::members(const std::vector<std::string>& names) const {
  for (const auto& name : names)
    if (std::find(names_.begin(), names_.end(), name) == names_.end()) {
      std::string known;
      for (const auto& n : names_) known += (known.empty() ? "" : ", ") + n;
      throw GeometryError("no boundary piece named '" + name + "': this shape's pieces are " + known);
    }
  std::vector<int64_t> ids;
  for (size_t i = 0; i < current_.size(); ++i)
    if (std::find(names.begin(), names.end(), current_[i]) != names.end()) ids.push_back(static_cast<int64_t>(i));
  return ids;
}

void PieceNames::rename_all(const std::string& name) { rebuild(std::vector<std::string>(defaults_.size(), name)); }

torch::Tensor PieceNames::name_index(const torch::Tensor& internal_piece) const {
  auto table = torch::tensor(piece_to_name_, torch::kLong).to(internal_piece.device());
  return table.index({internal_piece});
}

void PieceNames::rebuild(const std::vector<std::string>& per_piece) {
  current_ = per_piece;
  names_.clear();
  piece_to_name_.clear();
  std::unordered_map<std::string, int64_t> index;  // a hypercube in 1e5 dimensions has 2e5 pieces
  for (const auto& name : per_piece) {
    auto [it, inserted] = index.emplace(name, static_cast<int64_t>(names_.size()));
    if (inserted) names_.push_back(name);
    piece_to_name_.push_back(it->second);
  }
}

}  // namespace physis::geometry
