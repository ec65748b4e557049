// The one forward signature of every operator model, and what a model needs to know about its data.
//
//   OperatorModel& model = ...;                                        // DeepONet, Transolver, FNO, ...
//   torch::Tensor y = model.forward(batch.coords, batch.fields, batch.extras());   // [B, N, c]
//
// coords may be [1, N, d] when every sample of the batch shares its query points (an aligned dataset): models
// that can (DeepONet's trunk) then evaluate them once instead of B times.
#pragma once

#include "operators/dataset.h"

#include <torch/types.h>

#include <string>
#include <vector>

namespace physis::ops {

// A field and, from models that predict one, a global time history.
struct OperatorOutput {
  torch::Tensor field;    // [B, N, c]
  torch::Tensor history;  // [B, T, g] at extras.times; undefined from field-only models
};

class OperatorModel {
 public:
  virtual ~OperatorModel() = default;
  // coords [B or 1, N, d], fields [B, S, f] (undefined when the data have none) -> prediction [B, N, c].
  virtual torch::Tensor forward(const torch::Tensor& coords, const torch::Tensor& fields, const Extras& extras) = 0;
  // g, the global quantities the model predicts over time (extras.times); 0 for field-only models.
  virtual int64_t history_channels() const { return 0; }
  // Field and history in one pass (models with a history share the work); field-only models keep this default.
  virtual OperatorOutput forward_with_history(const torch::Tensor& coords, const torch::Tensor& fields,
                                              const Extras& extras) {
    return {forward(coords, fields, extras), {}};
  }
};

// Sizes a model is built for, read off a dataset (and saved with the model so that `predict` can rebuild it).
struct OperatorShape {
  int64_t coordinate_dim = 0;
  int64_t field_channels = 0;
  int64_t sensors = 0;  // S: number of field points per sample (only meaningful when fields are fixed-size)
  int64_t target_channels = 0;
  int64_t param_count = 0;
  int64_t history_channels = 0;     // g of Sample::history [T, g]; 0 when the data have no time history
  std::vector<int64_t> grid_shape;  // {n_x, n_y, ...} when the data lie on one regular grid
  bool aligned = false;
  bool has_mask = false;
  std::vector<std::string> field_names;  // names of the f field channels (empty in descriptions saved before them)

  static OperatorShape of(const Dataset& data);
  // Throws DatasetError naming `source` when data of shape `data` cannot go through a model built for this shape.
  void check_fits(const OperatorShape& data, const std::string& source) const;
};

}  // namespace physis::ops
