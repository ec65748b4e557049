// NumPy .npy (parsed here: the format is a short text header and raw data) and .npz (a zip of .npy, via libzip).
// Format: https://numpy.org/doc/stable/reference/generated/numpy.lib.format.html
#include "core/build_config.h"
#include "operators/array_io.h"
#include "operators/array_io_detail.h"

#include <cstring>
#include <map>

#if PHYSIS_HAVE_ZIP
#include <zip.h>
#endif

namespace physis::ops {

namespace {

[[noreturn]] void bad_npy(const std::string& name, const std::string& message) {
  throw DatasetError("'" + name + "': " + message);
}

// The text after 'key': in the header dict, e.g. "'<f8', 'fortran_order': False, ...".
std::string header_value(const std::string& header, const std::string& key, const std::string& name) {
  const auto at = header.find("'" + key + "'");
  if (at == std::string::npos) bad_npy(name, "the .npy header has no '" + key + "' entry (corrupt file?)");
  auto colon = header.find(':', at);
  if (colon == std::string::npos) bad_npy(name, "the .npy header is malformed");
  auto start = header.find_first_not_of(' ', colon + 1);
  return start == std::string::npos ? std::string() : header.substr(start);
}

torch::Dtype npy_dtype(const std::string& descr, const std::string& name) {
  static const std::map<std::string, torch::Dtype> types = {
      {"f2", torch::kHalf}, {"f4", torch::kFloat}, {"f8", torch::kDouble}, {"i1", torch::kChar},
      {"i2", torch::kShort}, {"i4", torch::kInt}, {"i8", torch::kLong},  {"u1", torch::kByte},
      {"u2", torch::kUInt16}, {"u4", torch::kUInt32}, {"b1", torch::kBool}};
  if (descr.size() == 3 && descr[0] == '>' && descr.substr(1) != "u1" && descr.substr(1) != "i1" && descr.substr(1) != "b1")
    bad_npy(name, "holds big-endian data ('" + descr + "'); save it little-endian, e.g. x.astype(x.dtype.newbyteorder('<'))");
  if (descr.size() == 3 && (descr[0] == '<' || descr[0] == '|' || descr[0] == '=' || descr[0] == '>'))
    if (auto it = types.find(descr.substr(1)); it != types.end()) return it->second;
  bad_npy(name, "has the unsupported element type '" + descr +
                    "'; supported: little-endian f2, f4, f8, i1, i2, i4, i8, u1, u2, u4 and b1");
}

std::vector<int64_t> npy_shape(const std::string& text, const std::string& name) {
  if (text.empty() || text[0] != '(') bad_npy(name, "the .npy header has a malformed 'shape'");
  const auto close = text.find(')');
  if (close == std::string::npos) bad_npy(name, "the .npy header has a malformed 'shape'");
  std::vector<int64_t> shape;
  const std::string inner = text.substr(1, close - 1);
  size_t pos = 0;
  while (pos < inner.size()) {
    auto comma = inner.find(',', pos);
    std::string item = inner.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos);
    item.erase(0, item.find_first_not_of(' '));
    item.erase(item.find_last_not_of(' ') + 1);
    if (!item.empty()) {
      try {
        shape.push_back(std::stoll(item));
      } catch (const std::exception&) {
        bad_npy(name, "the .npy header has a malformed 'shape'");
      }
    }
    if (comma == std::string::npos) break;
    pos = comma + 1;
  }
  return shape;
}

}  // namespace

torch::Tensor parse_npy(const std::string& bytes, const std::string& name) {
  static const char magic[] = "\x93NUMPY";
  if (bytes.size() < 10 || bytes.compare(0, 6, magic, 6) != 0)
    bad_npy(name, "is not a .npy file (no \\x93NUMPY magic; truncated or another format?)");
  const auto major = static_cast<unsigned char>(bytes[6]);
  auto byte = [&](size_t i) { return static_cast<size_t>(static_cast<unsigned char>(bytes[i])); };
  size_t header_len = 0, offset = 0;
  if (major == 1) {
    header_len = byte(8) | byte(9) << 8;
    offset = 10;
  } else if (major == 2 || major == 3) {
    if (bytes.size() < 12) bad_npy(name, "is truncated inside the .npy header");
    header_len = byte(8) | byte(9) << 8 | byte(10) << 16 | byte(11) << 24;
    offset = 12;
  } else {
    bad_npy(name, "has the unknown .npy format version " + std::to_string(major));
  }
  if (bytes.size() < offset + header_len) bad_npy(name, "is truncated inside the .npy header");
  const std::string header = bytes.substr(offset, header_len);
  const std::string descr_text = header_value(header, "descr", name);
  if (descr_text.empty() || descr_text[0] != '\'')
    bad_npy(name, "holds a structured array; save each field as its own array");
  const std::string descr = descr_text.substr(1, descr_text.find('\'', 1) - 1);
  const torch::Dtype dtype = npy_dtype(descr, name);
  const bool fortran = header_value(header, "fortran_order", name).rfind("True", 0) == 0;
  const std::vector<int64_t> shape = npy_shape(header_value(header, "shape", name), name);

  int64_t count = 1;
  for (int64_t n : shape) count *= n;
  const size_t data_bytes = static_cast<size_t>(count) * c10::elementSize(dtype);
  const size_t available = bytes.size() - offset - header_len;
  if (available < data_bytes)
    bad_npy(name, "is truncated: the header promises " + std::to_string(data_bytes) + " bytes of data, the file holds " +
                      std::to_string(available));
  const char* data = bytes.data() + offset + header_len;
  torch::Tensor t;
  if (fortran) {
    t = detail::from_column_major(data, shape, dtype);
  } else {
    t = torch::empty(shape, torch::TensorOptions().dtype(dtype));
    std::memcpy(t.data_ptr(), data, data_bytes);
  }
  return detail::normalize_dtype(t, name, "data");
}

namespace detail {

#if PHYSIS_HAVE_ZIP

namespace {

struct ZipArchive {
  zip_t* handle = nullptr;
  ~ZipArchive() {
    if (handle) zip_discard(handle);
  }
};

std::string read_member(const std::filesystem::path& path, zip_t* archive, zip_uint64_t index) {
  zip_stat_t stat;
  zip_stat_init(&stat);
  if (zip_stat_index(archive, index, 0, &stat) != 0) fail(path, std::string("corrupt .npz: ") + zip_strerror(archive));
  zip_file_t* file = zip_fopen_index(archive, index, 0);
  if (!file) fail(path, std::string("cannot open a member of the .npz: ") + zip_strerror(archive));
  std::string bytes(stat.size, '\0');
  const zip_int64_t got = zip_fread(file, bytes.data(), stat.size);
  const std::string why = got < 0 ? zip_file_strerror(file) : "";
  zip_fclose(file);
  if (got < 0 || static_cast<zip_uint64_t>(got) != stat.size)
    fail(path, "member '" + std::string(stat.name) + "' is truncated or corrupt" + (why.empty() ? "" : ": " + why));
  return bytes;
}

}  // namespace

ArrayFile read_npz(const std::filesystem::path& path, const ReadRequest& request) {
  int code = 0;
  ZipArchive archive;
  archive.handle = zip_open(path.c_str(), ZIP_RDONLY | ZIP_CHECKCONS, &code);
  if (!archive.handle) {
    zip_error_t error;
    zip_error_init_with_code(&error, code);
    const std::string why = zip_error_strerror(&error);
    zip_error_fini(&error);
    fail(path, "cannot be read as a .npz (zip) file (truncated or another format?): " + why);
  }
  std::map<std::string, zip_uint64_t> members;  // array name -> zip index
  const zip_int64_t count = zip_get_num_entries(archive.handle, 0);
  for (zip_int64_t i = 0; i < count; ++i) {
    const std::string member = zip_get_name(archive.handle, static_cast<zip_uint64_t>(i), 0);
    if (member.size() > 4 && member.compare(member.size() - 4, 4, ".npy") == 0)
      members[member.substr(0, member.size() - 4)] = static_cast<zip_uint64_t>(i);
  }
  std::vector<std::string> names;
  for (const auto& [name, index] : members) names.push_back(name);
  ArrayFile out;
  for (const auto& name : select_names(path, names, request.only))
    out.arrays[name] = request.load ? parse_npy(read_member(path, archive.handle, members[name]),
                                                path.string() + ":" + name)
                                    : torch::Tensor();
  return out;
}

#else

ArrayFile read_npz(const std::filesystem::path& path, const ReadRequest&) {
  fail(path, "physis was built without libzip, needed for .npz files; install libzip-dev and reconfigure "
             "(-DPHYSIS_ZIP=ON), or save the arrays as separate .npy files");
}

#endif

}  // namespace detail

}  // namespace physis::ops
