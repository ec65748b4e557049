#include "core/checkpoint.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <stdexcept>

namespace physis {

namespace {
void fsync_path(const std::filesystem::path& path, int flags) {
  int fd = ::open(path.c_str(), flags);
  if (fd < 0) return;  // best effort for folders on file systems that refuse it
  ::fsync(fd);
  ::close(fd);
}
}  // namespace

void atomic_write(const std::filesystem::path& path, const std::function<void(std::ostream&)>& write) {
  const auto folder = path.has_parent_path() ? path.parent_path() : std::filesystem::path(".");
  std::filesystem::create_directories(folder);
  const auto tmp = folder / ("." + path.filename().string() + ".tmp." + std::to_string(::getpid()));
  try {
    {
      std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
      if (!out) throw std::runtime_error("cannot write '" + tmp.string() + "': " + std::strerror(errno));
      write(out);
      out.flush();
      if (!out) throw std::runtime_error("writing '" + tmp.string() + "' failed (disk full?)");
    }
    fsync_path(tmp, O_RDONLY);
    std::filesystem::rename(tmp, path);
    fsync_path(folder, O_RDONLY | O_DIRECTORY);
  } catch (...) {
    std::error_code ignored;
    std::filesystem::remove(tmp, ignored);
    throw;
  }
}

}  // namespace physis
