// What the grid models (FNO, LSM) share: their inputs checked and laid out as one image, and their output.
//
//   auto image = grid_model_inputs("FNO", {85, 85}, 1, 0, coords, fields, extras);   // [B, 85, 85, 1 + 2]
//   ... channels-last image model ...                                               // [B, 85, 85, c]
//   return grid_model_outputs("FNO", out, mask_output, extras);                     // [B, 7225, c]
//
// A grid of shape {n_x, n_y[, n_z]} (Dataset::grid_shape, x fastest) becomes the image [B, (n_z,) n_y, n_x, ch]:
// the image's last spatial axis is x.
#pragma once

#include "operators/dataset.h"

#include <torch/types.h>

#include <string>
#include <vector>

namespace physis::ops {

// coords [B or 1, N, d], fields [B, N, f] on the grid points themselves, extras.params [B, P] when params > 0
// -> image [B, (n_z,) n_y, n_x, f + d + P]: the fields, the coordinates and the params (constant over the grid).
torch::Tensor grid_model_inputs(const std::string& model, const std::vector<int64_t>& grid, int64_t field_channels,
                                int64_t params, const torch::Tensor& coords, const torch::Tensor& fields,
                                const Extras& extras);

// image [B, (n_z,) n_y, n_x, c] -> [B, N, c], multiplied by extras.mask [B, N] when mask_output.
torch::Tensor grid_model_outputs(const std::string& model, const torch::Tensor& image, bool mask_output,
                                 const Extras& extras);

// The spatial sizes of the image of `grid`: {(n_z,) n_y, n_x}.
std::vector<int64_t> image_sizes(const std::vector<int64_t>& grid);

}  // namespace physis::ops
