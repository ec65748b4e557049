// A scratch folder of this test process's own (CTest runs tests side by side), removed when the program ends.
#pragma once

#include <unistd.h>

#include <filesystem>
#include <string>
#include <system_error>

namespace physis::test {

// <tmp>/physis_test_<pid>/<name>; the folder exists, the file is not created.
inline std::filesystem::path scratch(const std::string& name) {
  static const struct Folder {
    std::filesystem::path path =
        std::filesystem::temp_directory_path() / ("physis_test_" + std::to_string(::getpid()));
    ~Folder() {
      std::error_code ignored;
      std::filesystem::remove_all(path, ignored);
    }
  } folder;
  std::filesystem::create_directories(folder.path);
  return folder.path / name;
}

}  // namespace physis::test
