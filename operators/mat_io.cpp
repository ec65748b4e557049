// MATLAB .mat files (v5, compressed or not, and v7.3) through matio. MATLAB stores arrays column-major; they come
// back with MATLAB's shape and index meaning, as scipy.io.loadmat gives them (see array_io.h).
#include "core/build_config.h"
#include "operators/array_io.h"
#include "operators/array_io_detail.h"

#include <fstream>
#include <map>
#include <mutex>

#if PHYSIS_HAVE_MATIO
#include <matio.h>
#endif

namespace physis::ops::detail {

namespace fs = std::filesystem;

#if PHYSIS_HAVE_MATIO

namespace {

// matio prints its complaints to stderr; keep the last one for our own message instead.
thread_local std::string last_matio_message;
void remember_message(int, char* message) { last_matio_message = message ? message : ""; }

std::string matio_says() {
  return last_matio_message.empty() ? std::string() : " (matio: " + last_matio_message + ")";
}

struct MatFile {
  mat_t* handle = nullptr;
  ~MatFile() {
    if (handle) Mat_Close(handle);
  }
};

struct MatVar {
  matvar_t* var = nullptr;
  ~MatVar() {
    if (var) Mat_VarFree(var);
  }
};

// Why a variable cannot become a tensor, or "" when it can.
std::string unsupported_reason(const matvar_t* var) {
  switch (var->class_type) {
    case MAT_C_CELL: return "is a cell array";
    case MAT_C_STRUCT: return "is a struct";
    case MAT_C_CHAR: return "is a char array";
    case MAT_C_SPARSE: return "is sparse; save full(x) instead";
    case MAT_C_EMPTY:
    case MAT_C_OBJECT:
    case MAT_C_FUNCTION:
    case MAT_C_OPAQUE: return "is a MATLAB object";
    default: return var->isComplex ? "is complex; save real(x) and imag(x) as separate arrays" : "";
  }
}

torch::Dtype dtype_of(matio_classes type) {
  switch (type) {
    case MAT_C_DOUBLE: return torch::kDouble;
    case MAT_C_SINGLE: return torch::kFloat;
    case MAT_C_INT8: return torch::kChar;
    case MAT_C_UINT8: return torch::kByte;
    case MAT_C_INT16: return torch::kShort;
    case MAT_C_UINT16: return torch::kUInt16;
    case MAT_C_INT32: return torch::kInt;
    case MAT_C_UINT32: return torch::kUInt32;
    case MAT_C_INT64: return torch::kLong;
    default: return torch::kUInt64;
  }
}

torch::Tensor read_variable(const fs::path& path, mat_t* mat, const std::string& name) {
  MatVar v{Mat_VarRead(mat, name.c_str())};
  if (!v.var || (!v.var->data && Mat_VarGetSize(v.var) > 0))
    fail(path, "cannot read variable '" + name + "' (truncated or corrupt file?)" + matio_says());
  const torch::Dtype dtype = dtype_of(v.var->class_type);
  std::vector<int64_t> shape(v.var->dims, v.var->dims + v.var->rank);
  int64_t count = 1;
  for (int64_t n : shape) count *= n;
  if (v.var->data_size != static_cast<int>(c10::elementSize(dtype)) ||
      v.var->nbytes < static_cast<size_t>(count) * c10::elementSize(dtype))
    fail(path, "variable '" + name + "' has inconsistent sizes (corrupt file?)");
  if (count == 0) return torch::empty(shape, torch::TensorOptions().dtype(v.var->isLogical ? torch::kBool : dtype));
  torch::Tensor t = from_column_major(v.var->data, shape, dtype);
  return v.var->isLogical ? t.ne(0) : normalize_dtype(t, path, name);
}

// matio lists the variables of a cut-off v5 file without complaint, so walk the top-level data elements (an 8-byte
// tag: type and byte count, then the data, padded to 8 bytes unless compressed) and check that they fit the file.
void check_v5_complete(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  char header[128];
  if (!in.read(header, sizeof header)) fail(path, "is truncated inside the MATLAB header");
  const bool swap = header[126] == 'M' && header[127] == 'I';
  const auto size = static_cast<uint64_t>(fs::file_size(path));
  uint64_t offset = 128;
  while (offset + 8 <= size) {
    unsigned char tag[8];
    in.seekg(static_cast<std::streamoff>(offset));
    if (!in.read(reinterpret_cast<char*>(tag), 8)) break;
    auto word = [&](int at) {
      return swap ? uint32_t{tag[at]} << 24 | uint32_t{tag[at + 1]} << 16 | uint32_t{tag[at + 2]} << 8 | tag[at + 3]
                  : uint32_t{tag[at + 3]} << 24 | uint32_t{tag[at + 2]} << 16 | uint32_t{tag[at + 1]} << 8 | tag[at];
    };
    const uint32_t type = word(0), bytes = word(4);
    offset += 8 + (type == MAT_T_COMPRESSED ? bytes : (uint64_t{bytes} + 7) / 8 * 8);
  }
  if (offset > size)
    fail(path, "is truncated: its last variable ends " + std::to_string(offset - size) + " bytes past the end of the file");
}

}  // namespace

ArrayFile read_mat(const fs::path& path, const ReadRequest& request) {
  static std::once_flag logging;
  std::call_once(logging, [] { Mat_LogInitFunc("physis", remember_message); });
  last_matio_message.clear();
  QuietHdf5 quiet_hdf5;
  MatFile mat{Mat_Open(path.c_str(), MAT_ACC_RDONLY)};
  if (!mat.handle)
    fail(path, "cannot be opened as a MATLAB file (truncated, another format, or a v7.3 file while matio lacks "
               "HDF5?)" + matio_says());
  if (Mat_GetVersion(mat.handle) == MAT_FT_MAT5) check_v5_complete(path);
  size_t count = 0;
  char** names = Mat_GetDir(mat.handle, &count);
  if (!names || count == 0)  // matio opens a cut-off v7.3 file but then finds nothing in it
    fail(path, "holds no variables that matio can list (truncated or corrupt file?)" + matio_says());
  std::vector<std::string> readable;
  std::map<std::string, std::string> unreadable;
  for (size_t i = 0; i < count; ++i) {
    const std::string name = names[i];
    MatVar info{Mat_VarReadInfo(mat.handle, name.c_str())};
    if (!info.var) fail(path, "cannot read variable '" + name + "' (truncated or corrupt file?)" + matio_says());
    const std::string why = unsupported_reason(info.var);
    if (why.empty()) readable.push_back(name);
    else unreadable[name] = why;
  }
  for (const auto& name : request.only)
    if (auto it = unreadable.find(name); it != unreadable.end())
      fail(path, "variable '" + name + "' " + it->second + "; only numeric and logical arrays become tensors");
  ArrayFile out;
  for (const auto& name : select_names(path, readable, request.only))
    out.arrays[name] = request.load ? read_variable(path, mat.handle, name) : torch::Tensor();
  return out;
}

#else

ArrayFile read_mat(const fs::path& path, const ReadRequest&) {
  fail(path, "physis was built without matio, needed for .mat files; install libmatio-dev and reconfigure "
             "(-DPHYSIS_MATIO=ON), or convert the file with scipy.io.loadmat + numpy.savez");
}

#endif

}  // namespace physis::ops::detail
