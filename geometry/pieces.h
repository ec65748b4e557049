// Boundary piece names of a primitive, renameable: its edges/faces have default names ("x_min", "edge2", ...)
// that a problem may rename or merge ("inlet", "wall").
#pragma once

#include "geometry/geometry.h"

#include <map>
#include <string>
#include <vector>

namespace physis::geometry {

class PieceNames {
 public:
  explicit PieceNames(std::vector<std::string> defaults);
  // Renames default pieces (unknown names are an error listing the known ones); equal new names merge pieces.
  void rename(const std::map<std::string, std::string>& renames);
  // One name for the whole boundary.
  void rename_all(const std::string& name);
  const std::vector<std::string>& names() const { return names_; }
  // Internal piece ids (edge/face numbers) whose name is one of `names`, ascending; an unknown name is a
  // GeometryError listing the known ones.
  std::vector<int64_t> members(const std::vector<std::string>& names) const;
  // [N] int64 name index for [N] internal piece ids (edge/face numbers).
  torch::Tensor name_index(const torch::Tensor& internal_piece) const;

 private:
  void rebuild(const std::vector<std::string>& per_piece);
  std::vector<std::string> defaults_;
  std::vector<std::string> current_;        // name of every internal piece
  std::vector<std::string> names_;          // unique names, first-appearance order
  std::vector<int64_t> piece_to_name_;      // internal piece -> index into names_
};

// A primitive shape: a Geometry whose boundary pieces can be renamed before it is shared.
class Primitive : public Geometry {
 public:
  explicit Primitive(std::vector<std::string> default_pieces) : pieces_(std::move(default_pieces)) {}
  void rename_boundary(const std::map<std::string, std::string>& renames) { pieces_.rename(renames); }
  void name_boundary(const std::string& name) { pieces_.rename_all(name); }
  std::vector<std::string> boundary_names() const override { return pieces_.names(); }

 protected:
  BoundaryPoints make_boundary(torch::Tensor points, torch::Tensor normals, torch::Tensor internal_piece) const {
    auto piece = pieces_.name_index(internal_piece);
    return {std::move(points), std::move(normals), std::move(piece), pieces_.names()};
  }
  PieceNames pieces_;
};

}  // namespace physis::geometry
