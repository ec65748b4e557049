// The one sample layout every operator model trains on, for regular grids and unstructured point clouds alike.
//
//   Dataset data = read_dataset("darcy85.h5");                 // operators/dataset_io.h
//   auto [train, test] = data.split(1000);                      // first 1000 samples, the rest
//   Batch batch = train.batch({0, 1, 2, 3});                    // stacked, padded where N differs
//   model->forward(batch.coords, batch.fields, batch.extras());  // [B, N, c]
//
// A sample holds float tensors on the CPU; batches move to the training device.
#pragma once

#include <torch/types.h>

#include <cstdint>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace physis::ops {

// A dataset that is malformed or does not match what is asked of it; what() names the file and what is wrong.
class DatasetError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct Sample {
  torch::Tensor coords{};        // [N, d] query points (where targets live)
  torch::Tensor targets{};       // [N, c]
  torch::Tensor fields{};        // [S, f] input functions: on the query points when field_coords is undefined
                                 // (then S == N), else at the sensors field_coords
  torch::Tensor field_coords{};  // [S, d] sensor locations, optional
  torch::Tensor params{};        // [P] design parameters / task coefficients, optional
  torch::Tensor mask{};          // [N] 1 inside the geometry, 0 outside, optional
  torch::Tensor times{};         // [T] times of a global time history, optional
  torch::Tensor history{};       // [T, g] global quantities over time (e.g. a reaction force), optional

  int64_t num_points() const { return coords.size(0); }
};

// Optional model inputs besides coords and fields; undefined tensors are absent.
struct Extras {
  torch::Tensor field_coords{};  // [B, S, d]
  torch::Tensor params{};        // [B, P]
  torch::Tensor mask{};          // [B, N] geometry mask
  torch::Tensor valid{};         // [B, N] 1 for real points, 0 for padding (only when N differs in the batch)
  torch::Tensor times{};         // [B, T]
};

// Samples stacked along a leading batch axis. Point clouds of different sizes are zero-padded to the largest
// and `valid` marks the real points.
struct Batch {
  torch::Tensor coords;   // [B, N, d]
  torch::Tensor targets;  // [B, N, c]
  torch::Tensor fields;   // [B, S, f]
  torch::Tensor field_coords, params, mask, valid, times, history;  // see Sample / Extras; history [B, T, g]

  int64_t size() const { return coords.size(0); }
  Extras extras() const { return {field_coords, params, mask, valid, times}; }
  // Points that count in losses and errors: mask * valid, [B, N], or undefined when every point counts.
  torch::Tensor weights() const;
  Batch to(const torch::Device& device, torch::Dtype dtype) const;
};

struct Dataset {
  std::vector<Sample> samples;
  // Set when every sample's query points are the same regular grid (e.g. {85, 85}), listed {n_x, n_y, ...} with x
  // varying fastest, so a grid field [N, f] reshapes to [..., n_y, n_x, f] (the VTK image order); empty otherwise.
  std::vector<int64_t> grid_shape;
  std::vector<std::string> coordinate_names;  // d entries, e.g. {"x", "y"}
  std::vector<std::string> field_names;       // f entries
  std::vector<std::string> target_names;      // c entries
  std::vector<std::string> param_names;       // P entries
  std::vector<std::string> history_names;     // g entries
  std::string source;                         // file it came from, for messages

  int64_t size() const { return static_cast<int64_t>(samples.size()); }
  bool empty() const { return samples.empty(); }
  int64_t coordinate_dim() const;
  int64_t field_channels() const;
  int64_t target_channels() const;
  int64_t param_count() const;  // 0 when samples carry no parameters
  // Every sample has the same query points (and sensors), so models may share them across a batch.
  bool aligned() const;

  // Checks every sample against the first: ranks, channel counts, names, NaN/Inf; throws DatasetError.
  void validate() const;
  Batch batch(const std::vector<int64_t>& indices) const;
  Batch all() const;
  Dataset subset(const std::vector<int64_t>& indices) const;
  // The first `count` samples and the rest.
  std::pair<Dataset, Dataset> split(int64_t count) const;
};

// The samples of several datasets of the same layout (names, grid, channel counts) one after the other.
Dataset concatenate(const std::vector<Dataset>& parts);

// Samples laid out on a regular grid: coordinates of an n_1 x ... x n_d grid over [lower, upper], x fastest,
// as [n_1 * ... * n_d, d].
torch::Tensor grid_coordinates(const std::vector<int64_t>& shape, const std::vector<double>& lower,
                               const std::vector<double>& upper);

}  // namespace physis::ops
