// Named arrays from the files operator-learning datasets ship in, and back.
//
//   auto arrays = read_arrays("piececonst_r421_N1024_smooth1.mat", {"coeff", "sol"});  // [1024, 421, 421] each
//   auto more = read_arrays("ns.h5");                  // every dataset, "group/name" paths relative to the root
//   write_hdf5("out.h5", {{"u", u}}, {{"origin", "darcy generator"}});
//   write_pt("out.pt", {{"u", u}});                    // Python: torch.load("out.pt")["u"]
//
// Formats, chosen by extension:
//   .h5 .hdf5  every numeric dataset, recursively (HDF5 C library)
//   .mat       MATLAB v5 (compressed or not) and v7.3, numeric and logical arrays (matio)
//   .npy .npz  NumPy; .npz members may be stored or deflated (libzip); little-endian f2/f4/f8, i1-i8, u1-u4, b1,
//              C or Fortran order
//   .pt .pth   torch.save of a tensor, or of a dict (nested dicts and lists flatten to "a/b", "a/0")
// A .npy or single-tensor .pt file gives one array named after the file's stem ("coeff.npy" -> "coeff").
//
// Index order: arrays keep the shape a Python user sees. MATLAB arrays (column-major on disk, both v5 and v7.3)
// come back with MATLAB's dimensions in MATLAB's order, exactly as scipy.io.loadmat returns them: FNO's
// piececonst_r421_N1024_smooth1.mat `coeff` is [1024, 421, 421] and element [i, j, k] is MATLAB's coeff(i+1,j+1,k+1).
// (h5py users of v7.3 files see the reverse shape and transpose it; this reader already did.) HDF5 and NumPy arrays
// keep their C-order shape; Fortran-order .npy arrays are reordered so that [i, j, k] means the same element.
//
// Element types: floats of 32 bits or fewer become float32, float64 stays float64, every integer type becomes
// int64, booleans (NumPy b1, MATLAB logical, h5py's bool enum) become bool. Complex, string, cell, struct and
// sparse variables are skipped when reading everything, and are an error when asked for by name.
//
// Every failure (missing file, truncated or corrupt file, unknown extension, missing key, unsupported type, a
// format whose library this build lacks) throws DatasetError naming the file and what to do. Writes are atomic:
// the file appears complete or not at all.
#pragma once

#include "operators/dataset.h"

#include <torch/types.h>

#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace physis::ops {

using ArrayMap = std::map<std::string, torch::Tensor>;

// Arrays together with a file's text attributes: HDF5 string attributes of the root group, string values of a
// .pt dict. Other formats have none.
struct ArrayFile {
  ArrayMap arrays;
  std::map<std::string, std::string> attributes;
};

// Reads the arrays named in `only` (every supported array when empty); a missing name is an error that lists the
// names the file has. Only the requested arrays are loaded where the format allows (HDF5, MATLAB, .npz).
// `format` ("hdf5", "mat", "npy", "npz", "pt"; empty or "auto": by extension) overrides the extension.
ArrayMap read_arrays(const std::filesystem::path& path, const std::vector<std::string>& only = {},
                     const std::string& format = "");
ArrayFile read_array_file(const std::filesystem::path& path, const std::vector<std::string>& only = {},
                          const std::string& format = "");

// The names of a file's arrays (undefined tensors) and its attributes, without loading the data (.pt files are
// loaded whole).
ArrayFile scan_array_file(const std::filesystem::path& path, const std::string& format = "");
std::vector<std::string> list_arrays(const std::filesystem::path& path, const std::string& format = "");

// Writes every tensor as a dataset ("a/b" makes group "a"), float32/float64/int32/int64 as such and bool/uint8
// as uint8, plus string attributes on the root group. Throws DatasetError when the build lacks HDF5.
void write_hdf5(const std::filesystem::path& path, const ArrayMap& arrays,
                const std::map<std::string, std::string>& attributes = {});

// Writes a dict of tensors (and strings, for the attributes) in torch.save's zip format.
void write_pt(const std::filesystem::path& path, const ArrayMap& arrays,
              const std::map<std::string, std::string>& attributes = {});

// Parses the bytes of a .npy file into a tensor of the normalized element type; `name` is used in messages.
torch::Tensor parse_npy(const std::string& bytes, const std::string& name);

}  // namespace physis::ops
