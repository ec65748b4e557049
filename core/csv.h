// Small CSV helpers for history files and tabular reference data.
#pragma once

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace physis {

// Appends rows to a CSV file; writes the header when the file is new or empty.
class CsvWriter {
 public:
  CsvWriter() = default;
  CsvWriter(const std::filesystem::path& path, std::vector<std::string> header);
  bool is_open() const { return out_.is_open(); }
  const std::vector<std::string>& header() const { return header_; }
  void write_row(const std::vector<std::string>& cells);  // flushed at once, so a killed run keeps its rows

 private:
  std::ofstream out_;
  std::vector<std::string> header_;
};

// Keeps the header and the rows whose first column (a step number) is <= last_step; used when resuming.
void truncate_csv_after(const std::filesystem::path& path, long long last_step);

std::string format_number(double value);  // shortest round-trippable text, "nan"/"inf" spelled out

}  // namespace physis
