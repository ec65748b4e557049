// read_vtu_collection(): one .vtu per design plus a CSV of design parameters, as FEA users export them.
#include "geometry/vtk_io.h"
#include "operators/array_io_detail.h"
#include "operators/dataset_io.h"

#include <algorithm>
#include <fstream>
#include <tuple>

namespace physis::ops {

namespace fs = std::filesystem;

namespace {

[[noreturn]] void fail(const fs::path& csv, const std::string& what) {
  throw DatasetError("'" + csv.string() + "': " + what);
}

std::string trim(const std::string& text) {
  const auto begin = text.find_first_not_of(" \t\r");
  if (begin == std::string::npos) return "";
  return text.substr(begin, text.find_last_not_of(" \t\r") - begin + 1);
}

// One CSV line; double quotes protect commas ("a, b") and double themselves ("say ""hi""").
std::vector<std::string> split_csv_line(const std::string& line) {
  std::vector<std::string> cells(1);
  bool quoted = false;
  for (size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (c == '"' && quoted && i + 1 < line.size() && line[i + 1] == '"') cells.back() += '"', ++i;
    else if (c == '"') quoted = !quoted;
    else if (c == ',' && !quoted) cells.emplace_back();
    else cells.back() += c;
  }
  for (auto& cell : cells) cell = trim(cell);
  return cells;
}

struct Table {
  std::vector<std::string> header;
  std::vector<std::vector<std::string>> rows;
  std::vector<int> lines;  // line number of each row, for messages
};

Table read_table(const fs::path& csv) {
  std::ifstream in(csv);
  if (!in) fail(csv, "cannot open the CSV file (check the path)");
  Table table;
  std::string line;
  int number = 0;
  while (std::getline(in, line)) {
    ++number;
    if (trim(line).empty() || trim(line)[0] == '#') continue;
    auto cells = split_csv_line(line);
    if (table.header.empty()) {
      table.header = std::move(cells);
      continue;
    }
    if (cells.size() != table.header.size())
      fail(csv, "line " + std::to_string(number) + " has " + std::to_string(cells.size()) + " cells, the header has " +
                    std::to_string(table.header.size()));
    table.rows.push_back(std::move(cells));
    table.lines.push_back(number);
  }
  if (table.header.empty()) fail(csv, "is empty; expected a header row and one row per design");
  return table;
}

size_t column_index(const fs::path& csv, const Table& table, const std::string& name) {
  auto it = std::find(table.header.begin(), table.header.end(), name);
  if (it != table.header.end()) return static_cast<size_t>(it - table.header.begin());
  std::string list;
  for (const auto& h : table.header) list += (list.empty() ? "" : ", ") + h;
  fail(csv, "has no column '" + name + "'; its columns: " + list);
}

// The named point arrays side by side, [N, channels].
torch::Tensor point_arrays(const fs::path& csv, const fs::path& vtu, const geometry::VtuData& mesh,
                           const std::vector<std::string>& names) {
  std::vector<torch::Tensor> parts;
  for (const auto& name : names) {
    auto it = mesh.point_data.find(name);
    if (it == mesh.point_data.end()) {
      std::string list;
      for (const auto& [n, t] : mesh.point_data) list += (list.empty() ? "" : ", ") + n;
      fail(csv, "'" + vtu.string() + "' has no point array '" + name + "'; it has: " + list);
    }
    parts.push_back(it->second.reshape({it->second.size(0), -1}));
  }
  return torch::cat(parts, 1).to(torch::kFloat);
}

// A CSV cell that is a whole number (no trailing text).
bool parse_number(const std::string& cell, float& value) {
  try {
    size_t used = 0;
    value = std::stof(cell, &used);
    return used == cell.size();
  } catch (const std::exception&) {
    return false;
  }
}

// A design's history CSV: times [T] from the first column, history [T, g] from the others, named by the header.
std::pair<torch::Tensor, torch::Tensor> read_history(const fs::path& csv, const std::string& where,
                                                     const fs::path& file, std::vector<std::string>& names) {
  Table table;
  try {
    table = read_table(file);
  } catch (const DatasetError& e) {
    fail(csv, where + ": " + e.what());
  }
  if (table.header.size() < 2 || table.rows.empty())
    fail(csv, where + ": '" + file.string() + "' needs a header (time, then the history columns) and a row per time");
  std::vector<float> values;
  for (size_t r = 0; r < table.rows.size(); ++r)
    for (const auto& cell : table.rows[r])
      if (!parse_number(cell, values.emplace_back()))
        fail(csv, where + ": '" + file.string() + "' line " + std::to_string(table.lines[r]) + " holds '" + cell +
                      "', not a number");
  names.assign(table.header.begin() + 1, table.header.end());
  const auto rows = static_cast<int64_t>(table.rows.size()), columns = static_cast<int64_t>(table.header.size());
  auto all = torch::tensor(values, torch::kFloat).reshape({rows, columns});
  return {all.select(1, 0).contiguous(), all.narrow(1, 1, columns - 1).contiguous()};
}

}  // namespace

Dataset read_vtu_collection(const fs::path& csv, const VtuCollectionSpec& spec) {
  if (spec.targets.empty()) fail(csv, "no targets given: name the point arrays the model should predict");
  if (spec.dimension != 2 && spec.dimension != 3) fail(csv, "dimension must be 2 or 3");
  const Table table = read_table(csv);
  const size_t file_col = column_index(csv, table, spec.file_column);
  const auto& header = table.header;
  const bool has_history =
      !spec.history_column.empty() && std::find(header.begin(), header.end(), spec.history_column) != header.end();
  const size_t history_col = has_history ? column_index(csv, table, spec.history_column) : 0;
  std::vector<std::string> param_names = spec.params;
  if (param_names.empty())
    for (const auto& h : table.header)
      if (h != spec.file_column && !(has_history && h == spec.history_column)) param_names.push_back(h);
  std::vector<size_t> param_cols;
  for (const auto& name : param_names) param_cols.push_back(column_index(csv, table, name));

  Dataset data;
  data.source = csv.string();
  data.param_names = param_names;
  data.coordinate_names = spec.dimension == 2 ? std::vector<std::string>{"x", "y"} : std::vector<std::string>{"x", "y", "z"};
  size_t rows = table.rows.size();
  if (spec.limit >= 0) rows = std::min(rows, static_cast<size_t>(spec.limit));
  for (size_t r = 0; r < rows; ++r) {
    const auto& row = table.rows[r];
    const std::string where = "line " + std::to_string(table.lines[r]);
    const fs::path vtu = csv.parent_path() / row[file_col];
    geometry::VtuData mesh;
    try {
      mesh = geometry::read_vtu(vtu.string());
    } catch (const std::exception& e) {  // GeometryError (missing file, no VTK) or a VTK failure
      fail(csv, where + ": " + e.what());
    }
    if (mesh.points.size(0) == 0) fail(csv, where + ": '" + vtu.string() + "' has no points");
    Sample s;
    s.coords = mesh.points.to(torch::kFloat64);
    if (spec.dimension == 2) {
      const auto z = s.coords.select(1, 2);
      const double spread = z.numel() ? (z.max() - z.min()).item<double>() : 0.0;
      const double scale = std::max(1.0, s.coords.abs().max().item<double>());
      if (spread > 1e-9 * scale)
        fail(csv, where + ": '" + vtu.string() + "' is not flat (z varies by " + std::to_string(spread) +
                      "); use dimension: 3");
      s.coords = s.coords.narrow(1, 0, 2);
    }
    s.coords = s.coords.to(torch::kFloat).contiguous();
    s.targets = point_arrays(csv, vtu, mesh, spec.targets);
    if (!spec.fields.empty()) s.fields = point_arrays(csv, vtu, mesh, spec.fields);
    if (!param_cols.empty()) {
      std::vector<float> values;
      for (size_t c = 0; c < param_cols.size(); ++c)
        if (!parse_number(row[param_cols[c]], values.emplace_back()))
          fail(csv, where + ": column '" + param_names[c] + "' holds '" + row[param_cols[c]] +
                        "', not a number (choose the parameter columns with params:)");
      s.params = torch::tensor(values, torch::kFloat);
    }
    if (has_history) {
      std::vector<std::string> names;
      std::tie(s.times, s.history) = read_history(csv, where, csv.parent_path() / row[history_col], names);
      if (r == 0) data.history_names = names;
      if (names != data.history_names)
        fail(csv, where + ": '" + row[history_col] + "' has other history columns than the first design's");
    }
    if (r == 0) {
      for (const auto& name : spec.targets)
        detail::append_channel_names(data.target_names, name, mesh.point_data.at(name).numel() / mesh.points.size(0));
      for (const auto& name : spec.fields)
        detail::append_channel_names(data.field_names, name, mesh.point_data.at(name).numel() / mesh.points.size(0));
    }
    data.samples.push_back(std::move(s));
  }
  return data;
}

}  // namespace physis::ops
