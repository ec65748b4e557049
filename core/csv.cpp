#include "core/csv.h"

#include "core/checkpoint.h"

#include <charconv>
#include <cmath>
#include <sstream>
#include <stdexcept>

namespace physis {

CsvWriter::CsvWriter(const std::filesystem::path& path, std::vector<std::string> header) : header_(std::move(header)) {
  if (path.has_parent_path()) std::filesystem::create_directories(path.parent_path());
  const bool fresh = !std::filesystem::exists(path) || std::filesystem::file_size(path) == 0;
  out_.open(path, std::ios::app);
  if (!out_) throw std::runtime_error("cannot open '" + path.string() + "' for writing");
  if (fresh) write_row(header_);
}

void CsvWriter::write_row(const std::vector<std::string>& cells) {
  for (std::size_t i = 0; i < cells.size(); ++i) out_ << (i ? "," : "") << cells[i];
  out_ << '\n';
  out_.flush();
}

void truncate_csv_after(const std::filesystem::path& path, long long last_step) {
  std::ifstream in(path);
  if (!in) return;
  std::string line, kept;
  bool header = true;
  while (std::getline(in, line)) {
    if (header) {
      kept += line + '\n';
      header = false;
      continue;
    }
    long long step = 0;
    auto [ptr, ec] = std::from_chars(line.data(), line.data() + line.size(), step);
    if (ec == std::errc() && step <= last_step) kept += line + '\n';
  }
  in.close();
  atomic_write(path, [&](std::ostream& out) { out << kept; });
}

std::string format_number(double value) {
  if (std::isnan(value)) return "nan";
  if (std::isinf(value)) return value > 0 ? "inf" : "-inf";
  char buf[64];
  auto [ptr, ec] = std::to_chars(buf, buf + sizeof buf, value);
  return std::string(buf, ptr);
}

}  // namespace physis
