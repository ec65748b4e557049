#include "operators/grid_model.h"

#include <functional>
#include <numeric>

namespace physis::ops {

std::vector<int64_t> image_sizes(const std::vector<int64_t>& grid) { return {grid.rbegin(), grid.rend()}; }

torch::Tensor grid_model_inputs(const std::string& model, const std::vector<int64_t>& grid, int64_t field_channels,
                                int64_t params, const torch::Tensor& coords, const torch::Tensor& fields,
                                const Extras& extras) {
  const auto d = static_cast<int64_t>(grid.size());
  const int64_t n = std::accumulate(grid.begin(), grid.end(), int64_t{1}, std::multiplies<>());
  TORCH_CHECK(coords.defined() && coords.dim() == 3 && coords.size(1) == n && coords.size(2) == d, model,
              ": expected coords [B, ", n, ", ", d, "] but got ", coords.defined() ? coords.sizes() : torch::IntArrayRef{});
  TORCH_CHECK(fields.defined() && fields.dim() == 3 && fields.size(1) == n && fields.size(2) == field_channels, model,
              ": expected fields [B, ", n, ", ", field_channels, "] but got ",
              fields.defined() ? fields.sizes() : torch::IntArrayRef{});
  TORCH_CHECK(!extras.field_coords.defined(), model, ": the input fields must lie on the grid points, not at sensors");
  const int64_t batch = fields.size(0);
  TORCH_CHECK(coords.size(0) == 1 || coords.size(0) == batch, model, ": coords hold ", coords.size(0),
              " samples, fields ", batch);
  std::vector<torch::Tensor> channels{fields, coords.expand({batch, n, d})};
  if (params > 0) {
    TORCH_CHECK(extras.params.defined() && extras.params.dim() == 2 && extras.params.size(0) == batch &&
                    extras.params.size(1) == params,
                model, ": expected params [", batch, ", ", params, "]");
    channels.push_back(extras.params.unsqueeze(1).expand({batch, n, params}));
  }
  auto points = torch::cat(channels, 2);  // [B, N, f + d + P]
  std::vector<int64_t> shape{batch};
  for (int64_t size : image_sizes(grid)) shape.push_back(size);
  shape.push_back(points.size(2));
  return points.reshape(shape);  // [B, (n_z,) n_y, n_x, f + d + P]
}

torch::Tensor grid_model_outputs(const std::string& model, const torch::Tensor& image, bool mask_output,
                                 const Extras& extras) {
  auto out = image.reshape({image.size(0), -1, image.size(-1)});  // [B, N, c]
  if (mask_output) {
    TORCH_CHECK(extras.mask.defined() && extras.mask.sizes() == out.sizes().slice(0, 2), model,
                ": mask_output needs a mask [B, N]");
    out = out * extras.mask.unsqueeze(-1);
  }
  return out;
}

}  // namespace physis::ops
