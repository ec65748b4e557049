// Shared pieces of the array readers (array_io.cpp, hdf5_io.cpp, mat_io.cpp, npy_io.cpp); not part of the public API.
#pragma once

#include "operators/array_io.h"

#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace physis::ops::detail {

// What a format reader is asked: the names to load (empty: everything it supports) or, with `load` false, only
// the names (the ArrayFile then holds undefined tensors).
struct ReadRequest {
  std::vector<std::string> only;
  bool load = true;
};

ArrayFile read_hdf5(const std::filesystem::path& path, const ReadRequest& request);
ArrayFile read_mat(const std::filesystem::path& path, const ReadRequest& request);
ArrayFile read_npz(const std::filesystem::path& path, const ReadRequest& request);

// Silences HDF5's automatic error printing while alive (matio reads v7.3 files through HDF5 too); we report errors
// ourselves. Does nothing in builds without HDF5.
class QuietHdf5 {
 public:
  QuietHdf5();
  ~QuietHdf5();
  QuietHdf5(const QuietHdf5&) = delete;
  QuietHdf5& operator=(const QuietHdf5&) = delete;

 private:
  struct Saved;
  std::unique_ptr<Saved> saved_;
};

[[noreturn]] void fail(const std::filesystem::path& path, const std::string& message);

// Checks that every requested name is available (else fails listing what is) and returns the names to load.
std::vector<std::string> select_names(const std::filesystem::path& path, const std::vector<std::string>& available,
                                      const std::vector<std::string>& only);

// float16/bfloat16 -> float32, every integer -> int64; float32/float64/bool unchanged; complex fails.
torch::Tensor normalize_dtype(const torch::Tensor& t, const std::filesystem::path& path, const std::string& name);

// Shape of column-major data as a C-order tensor with the same index meaning: reads `data` as the reversed
// shape and reverses the axes back. Copies, so the caller may free `data`.
torch::Tensor from_column_major(const void* data, const std::vector<int64_t>& shape, torch::Dtype dtype);

// Names of the channels one array contributes: the key itself, or key[0], key[1], ... for several.
void append_channel_names(std::vector<std::string>& names, const std::string& key, int64_t count);

// Runs `write(tmp)` on a temporary path next to `path` and renames it over `path`; removes it on failure.
void atomic_replace(const std::filesystem::path& path, const std::function<void(const std::filesystem::path&)>& write);

}  // namespace physis::ops::detail
