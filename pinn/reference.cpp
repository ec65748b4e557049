#include "pinn/reference.h"
#include "core/strings.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <fstream>
#include <optional>
#include <sstream>

namespace physis::pinn {

namespace fs = std::filesystem;

namespace {

// One column of a table file: "u (m/s) @ t=0.1" is name "u" at time 0.1.
struct Column {
  std::string name;
  std::optional<double> time;
};

// The first cell of a column that is not a finite number. Only an error when the column is used: CSV files may
// carry label columns.
struct BadCell {
  int line = 0;
  std::string text;
};

// A table file read into memory: column descriptions and the numbers, row-major.
struct Table {
  std::string file;
  int header_line = 0;          // line of the column names, 0 when the file has none
  std::vector<Column> columns;  // empty when the file has no header
  std::vector<double> data;     // [rows * width], NaN where a cell is bad
  std::vector<std::optional<BadCell>> bad;  // [width]
  int64_t rows = 0;
  int64_t width = 0;
};

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

std::optional<double> parse_number(std::string_view text) {
  if (!text.empty() && text.front() == '+') text.remove_prefix(1);
  double value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

// Groups the words of a header into columns: "(unit)" and "@ key=value" words belong to the column before them.
// The value of `time_key` after '@' becomes the column's time.
std::vector<Column> parse_column_words(const std::vector<std::string>& words, const std::string& time_key) {
  std::vector<Column> columns;
  bool in_unit = false, in_parameters = false;
  for (std::string word : words) {
    if (in_unit) {
      in_unit = word.find(')') == std::string::npos;
      continue;
    }
    if (!columns.empty() && word.front() == '(') {
      in_unit = word.find(')') == std::string::npos;
      continue;
    }
    if (!columns.empty() && word.front() == '@') {
      in_parameters = true;
      word.erase(0, 1);
      if (word.empty()) continue;
    }
    const auto equals = word.find('=');
    if (in_parameters && equals != std::string::npos) {
      while (!word.empty() && word.back() == ',') word.pop_back();
      if (lower(word.substr(0, equals)) == lower(time_key)) columns.back().time = parse_number(word.substr(equals + 1));
      continue;
    }
    in_parameters = false;
    columns.push_back({word, std::nullopt});
  }
  return columns;
}

std::vector<std::string> split_words(const std::string& line) {
  std::istringstream in(line);
  std::vector<std::string> words;
  for (std::string w; in >> w;) words.push_back(w);
  return words;
}

// A '%' line that reads "Key: value" is metadata (COMSOL's "% Nodes: 101"), not a list of column names.
bool is_metadata(const std::string& text) {
  const auto colon = text.find(':');
  if (colon == std::string::npos) return false;
  return std::all_of(text.begin(), text.begin() + static_cast<std::ptrdiff_t>(colon),
                     [](unsigned char c) { return std::isalpha(c) || c == ' ' || c == '_'; });
}

// Appends one data row to the table, checking that the width is constant and noting cells that are not finite
// numbers.
void add_row(Table& table, const std::vector<std::string>& cells, int line, int& first_data_line) {
  if (table.rows == 0) {
    table.width = static_cast<int64_t>(cells.size());
    table.bad.assign(cells.size(), std::nullopt);
    first_data_line = line;
  } else if (static_cast<int64_t>(cells.size()) != table.width) {
    throw ReferenceError(table.file, line, "file",
                         "row has " + std::to_string(cells.size()) + " columns but the first data row (line " +
                             std::to_string(first_data_line) + ") has " + std::to_string(table.width));
  }
  for (size_t c = 0; c < cells.size(); ++c) {
    const auto value = parse_number(cells[c]);
    const bool good = value && std::isfinite(*value);
    if (!good && !table.bad[c]) table.bad[c] = BadCell{line, cells[c]};
    table.data.push_back(good ? *value : std::nan(""));
  }
  ++table.rows;
}

std::ifstream open(const fs::path& file) {
  std::ifstream in(file);
  if (!in)
    throw ReferenceError(file.string(), 0, "file", "cannot open reference file: check that it exists and is readable");
  return in;
}

void require_rows(const Table& table) {
  if (table.rows == 0) throw ReferenceError(table.file, 0, "file", "no data rows");
}

Table read_whitespace_table(const fs::path& file, const std::string& time_key) {
  auto in = open(file);
  Table table;
  table.file = file.string();
  std::string last_header;
  int last_header_line = 0, first_data_line = 0, line_number = 0;
  for (std::string line; std::getline(in, line);) {
    ++line_number;
    const std::string text = trim(line);
    if (text.empty()) continue;
    if (text.front() == '%' || text.front() == '#') {
      if (table.rows == 0) last_header = trim(text.substr(1)), last_header_line = line_number;
      continue;
    }
    auto cells = split_words(text);
    // Commas are accepted as separators too ("1, 2, 3"): numbers never contain them.
    if (text.find(',') != std::string::npos) {
      std::string spaced = text;
      std::replace(spaced.begin(), spaced.end(), ',', ' ');
      cells = split_words(spaced);
    }
    add_row(table, cells, line_number, first_data_line);
  }
  require_rows(table);
  if (last_header_line > 0 && !is_metadata(last_header)) {
    table.columns = parse_column_words(split_words(last_header), time_key);
    table.header_line = last_header_line;
  }
  return table;
}

std::vector<std::string> split_csv(const std::string& line) {
  std::vector<std::string> cells;
  std::stringstream in(line);
  for (std::string cell; std::getline(in, cell, ',');) {
    cell = trim(cell);
    if (cell.size() >= 2 && cell.front() == '"' && cell.back() == '"') cell = cell.substr(1, cell.size() - 2);
    cells.push_back(cell);
  }
  if (!line.empty() && line.back() == ',') cells.emplace_back();
  return cells;
}

Table read_csv_table(const fs::path& file, const std::string& time_key) {
  auto in = open(file);
  Table table;
  table.file = file.string();
  int first_data_line = 0, line_number = 0;
  for (std::string line; std::getline(in, line);) {
    ++line_number;
    const std::string text = trim(line);
    if (text.empty() || text.front() == '#') continue;
    if (table.header_line == 0) {
      table.header_line = line_number;
      for (const auto& cell : split_csv(text)) {
        auto parsed = parse_column_words(split_words(cell), time_key);
        table.columns.push_back(parsed.empty() ? Column{} : parsed.front());
      }
      table.width = static_cast<int64_t>(table.columns.size());
      continue;
    }
    auto cells = split_csv(text);
    if (table.rows == 0 && static_cast<int64_t>(cells.size()) != table.width)
      throw ReferenceError(table.file, line_number, "file",
                           "row has " + std::to_string(cells.size()) + " columns but the header (line " +
                               std::to_string(table.header_line) + ") names " + std::to_string(table.width));
    add_row(table, cells, line_number, first_data_line);
  }
  require_rows(table);
  return table;
}

// Column indices of the file columns called `name`: exact match first, else case-insensitive.
std::vector<int64_t> find_columns(const std::vector<Column>& columns, const std::string& name) {
  std::vector<int64_t> exact, loose;
  for (size_t c = 0; c < columns.size(); ++c) {
    if (columns[c].name == name) exact.push_back(static_cast<int64_t>(c));
    if (lower(columns[c].name) == lower(name)) loose.push_back(static_cast<int64_t>(c));
  }
  return exact.empty() ? loose : exact;
}

std::string column_list(const std::vector<Column>& columns) {
  std::vector<std::string> names;
  for (const auto& c : columns) {
    std::ostringstream out;
    out << c.name;
    if (c.time) out << " @ t=" << *c.time;
    names.push_back(out.str());
  }
  return join(names);
}

// Names for a header-less file: the options' columns, else inputs then outputs (time series: the outputs at each
// time in turn).
std::vector<Column> default_columns(const Table& table, const TableOptions& o, bool time_series) {
  std::vector<Column> columns;
  if (!o.columns().empty()) {
    for (const auto& name : o.columns()) columns.push_back({name, std::nullopt});
    if (static_cast<int64_t>(columns.size()) != table.width)
      throw ReferenceError(table.file, 0, "columns",
                           "'columns' names " + std::to_string(columns.size()) + " columns but the file has " +
                               std::to_string(table.width));
    return columns;
  }
  for (const auto& name : o.inputs())
    if (!(time_series && name == o.time())) columns.push_back({name, std::nullopt});
  const size_t slices = time_series ? o.times().size() : 1;
  for (size_t s = 0; s < slices; ++s)
    for (const auto& name : o.outputs())
      columns.push_back({name, time_series ? std::optional<double>(o.times()[s]) : std::nullopt});
  if (static_cast<int64_t>(columns.size()) != table.width)
    throw ReferenceError(table.file, 0, "columns",
                         "the file has no header and " + std::to_string(table.width) + " columns, but " +
                             std::to_string(columns.size()) + " are expected (" + column_list(columns) +
                             "); give 'columns' to name them");
  return columns;
}

// Columns of a named table, looked up by name, with errors that point at the header line.
class ColumnLookup {
 public:
  ColumnLookup(const Table& table, const TableOptions& o)
      : table_(table),
        o_(o),
        data_(torch::from_blob(const_cast<double*>(table.data.data()), {table.rows, table.width}, torch::kFloat64)) {}

  // Every column called `name`, in file order; at least one.
  std::vector<int64_t> all(const std::string& name, const char* option) const {
    auto found = find_columns(table_.columns, name);
    if (found.empty())
      throw ReferenceError(table_.file, table_.header_line, option,
                           "no column called '" + name + "' (columns: " + column_list(table_.columns) + ")");
    return found;
  }
  // The one column called `name`.
  int64_t single(const std::string& name, const char* option) const {
    const auto found = all(name, option);
    if (found.size() > 1)
      throw ReferenceError(table_.file, table_.header_line, option,
                           "'" + name + "' names " + std::to_string(found.size()) + " columns (" +
                               column_list(table_.columns) + "); list '" + o_.time() +
                               "' among the inputs to read them as a time series");
    return found.front();
  }
  // [R] values of column c (a view of the table), once every cell of it is known to be a finite number.
  torch::Tensor values(int64_t c) const {
    if (const auto& bad = table_.bad[c])
      throw ReferenceError(table_.file, bad->line, "file",
                           "column " + std::to_string(c + 1) + " ('" + table_.columns[c].name + "'): '" + bad->text +
                               "' is not a finite number");
    return data_.select(1, c);
  }
  const Table& table() const { return table_; }

 private:
  const Table& table_;
  const TableOptions& o_;
  torch::Tensor data_;  // [R, K], a view of table.data: callers copy (stack) before the table goes
};

// One row per point: each input and output is one column.
void plain_layout(const ColumnLookup& lookup, const TableOptions& o, ReferenceData& out) {
  std::vector<torch::Tensor> points, values;
  for (const auto& name : o.inputs()) points.push_back(lookup.values(lookup.single(name, "inputs")));
  for (const auto& name : o.outputs()) values.push_back(lookup.values(lookup.single(name, "outputs")));
  out.points = torch::stack(points, 1);  // [R, d]
  out.values = torch::stack(values, 1);  // [R, m]
}

// The times of the slices: the options' list, else the header's "@ t=..." of the first output's columns.
std::vector<double> slice_times(const Table& table, const TableOptions& o, const std::vector<int64_t>& columns) {
  std::vector<double> times = o.times();
  if (times.empty()) {
    for (int64_t c : columns) {
      const auto& column = table.columns[c];
      if (!column.time)
        throw ReferenceError(table.file, table.header_line, "times",
                             "column '" + column.name + "' has no time ('@ " + o.time() +
                                 "=...'); list the times under 'times'");
      times.push_back(*column.time);
    }
  }
  if (times.size() != columns.size())
    throw ReferenceError(table.file, table.header_line, "times",
                         std::to_string(times.size()) + " times given but the file has " +
                             std::to_string(columns.size()) + " time columns per output");
  return times;
}

// Rows hold the spatial inputs and each output has one column per time: points (spatial..., t), time-major.
void time_series_layout(const ColumnLookup& lookup, const TableOptions& o, ReferenceData& out) {
  const Table& table = lookup.table();
  std::vector<std::vector<int64_t>> columns_of_output;  // [m][T]
  for (const auto& name : o.outputs()) {
    columns_of_output.push_back(lookup.all(name, "outputs"));
    if (columns_of_output.back().size() != columns_of_output.front().size())
      throw ReferenceError(table.file, table.header_line, "outputs",
                           "'" + name + "' has " + std::to_string(columns_of_output.back().size()) +
                               " time columns but '" + o.outputs().front() + "' has " +
                               std::to_string(columns_of_output.front().size()));
  }
  const auto times = slice_times(table, o, columns_of_output.front());
  std::vector<torch::Tensor> points, values;
  for (size_t s = 0; s < times.size(); ++s) {
    std::vector<torch::Tensor> p, v;
    for (const auto& name : o.inputs())
      p.push_back(name == o.time() ? torch::full({table.rows}, times[s], torch::kFloat64)
                                   : lookup.values(lookup.single(name, "inputs")));
    for (const auto& columns : columns_of_output) v.push_back(lookup.values(columns[s]));
    points.push_back(torch::stack(p, 1));  // [R, d]
    values.push_back(torch::stack(v, 1));  // [R, m]
  }
  out.points = torch::cat(points);  // [T * R, d]
  out.values = torch::cat(values);  // [T * R, m]
}

// Names the table's columns (header, options or defaults) and maps them onto the options' inputs and outputs.
ReferenceData assemble(Table table, const TableOptions& o) {
  if (o.inputs().empty()) throw ReferenceError(table.file, 0, "inputs", "no inputs given (e.g. [x, y])");
  if (o.outputs().empty()) throw ReferenceError(table.file, 0, "outputs", "no outputs given (e.g. [u])");
  const bool time_wanted = std::find(o.inputs().begin(), o.inputs().end(), o.time()) != o.inputs().end();
  if (table.columns.empty() || !o.columns().empty()) {
    table.columns = default_columns(table, o, time_wanted && !o.times().empty());
  } else if (static_cast<int64_t>(table.columns.size()) != table.width) {
    throw ReferenceError(table.file, table.header_line, "columns",
                         "the header names " + std::to_string(table.columns.size()) + " columns (" +
                             column_list(table.columns) + ") but the data rows have " + std::to_string(table.width) +
                             "; give 'columns' to name them");
  }
  ReferenceData out;
  out.inputs = o.inputs();
  out.outputs = o.outputs();
  const ColumnLookup lookup(table, o);
  if (time_wanted && find_columns(table.columns, o.time()).empty())
    time_series_layout(lookup, o, out);
  else
    plain_layout(lookup, o, out);
  return out;
}

std::string locate(const std::string& file, int line) {
  return line > 0 ? file + ":" + std::to_string(line) : file;
}

torch::Tensor as_columns(const torch::Tensor& t) {  // [N] or [N, m] -> [N, m] float64
  auto c = t.detach().to(torch::kFloat64);
  return c.dim() == 1 ? c.unsqueeze(1) : c;
}

}  // namespace

ReferenceError::ReferenceError(std::string file, int line, std::string option, const std::string& message)
    : std::runtime_error(locate(file, line) + ": " + message),
      file_(std::move(file)),
      line_(line),
      option_(std::move(option)) {}

torch::Tensor ReferenceData::column(const std::string& output) const {
  const auto it = std::find(outputs.begin(), outputs.end(), output);
  if (it == outputs.end())
    throw std::out_of_range("reference has no output '" + output + "' (outputs: " + join(outputs) + ")");
  return values.select(1, it - outputs.begin());
}

torch::Tensor ReferenceData::points_in(const std::vector<std::string>& order) const {
  std::vector<torch::Tensor> columns;
  for (const auto& name : order) {
    const auto it = std::find(inputs.begin(), inputs.end(), name);
    if (it == inputs.end()) throw std::out_of_range("no column for input '" + name + "'");
    columns.push_back(points.select(1, it - inputs.begin()));
  }
  return torch::stack(columns, 1);
}

ReferenceData read_comsol(const fs::path& file, const TableOptions& options) {
  return assemble(read_whitespace_table(file, options.time()), options);
}

ReferenceData read_csv(const fs::path& file, const TableOptions& options) {
  return assemble(read_csv_table(file, options.time()), options);
}

ReferenceData load_reference(const config::Section& section, const std::vector<std::string>& default_inputs,
                             const std::vector<std::string>& default_outputs) {
  const auto file_text = section.get<std::string>("file");
  fs::path file(file_text);
  if (file.is_relative() && !section.file().empty() && section.file().front() != '<')
    file = fs::path(section.file()).parent_path() / file;
  const std::string format = section.get<std::string>("format", file.extension() == ".csv" ? "csv" : "comsol");
  const auto options = TableOptions()
                           .inputs(section.get<std::vector<std::string>>("inputs", default_inputs))
                           .outputs(section.get<std::vector<std::string>>("outputs", default_outputs))
                           .columns(section.get<std::vector<std::string>>("columns", {}))
                           .times(section.get<std::vector<double>>("times", {}))
                           .time(section.get<std::string>("time", "t"));
  section.finish();
  if (format != "comsol" && format != "columns" && format != "csv" && format != "profiles")
    section.fail_at("format", "unknown reference format '" + format + "'; expected comsol, columns, csv or profiles");
  if (!fs::is_regular_file(file))
    section.fail_at("file", "reference file '" + file.string() + "' does not exist (relative paths start at the "
                                                                 "folder of this YAML file)");
  try {
    if (format == "profiles") return read_profiles(file, options);
    return format == "csv" ? read_csv(file, options) : read_comsol(file, options);
  } catch (const ReferenceError& e) {
    section.fail_at(e.option(), e.what());
  }
}

ReferenceData reference_from_exact(const std::vector<std::pair<std::string, Expression>>& exact,
                                   const torch::Tensor& points, const std::vector<std::string>& inputs) {
  TORCH_CHECK(points.dim() == 2, "reference_from_exact: expected points [N, d] but got ", points.sizes());
  TORCH_CHECK(!exact.empty(), "reference_from_exact: no expressions given");
  ReferenceData out;
  out.points = points.detach().to(torch::kFloat64);
  out.inputs = inputs;
  std::vector<torch::Tensor> columns;
  for (const auto& [name, expression] : exact) {
    TORCH_CHECK(expression.num_inputs() == points.size(1), "reference_from_exact: '", name, "' expects ",
                expression.num_inputs(), " input columns but points are ", points.sizes());
    columns.push_back(evaluate_on_points(expression, out.points).to(torch::kFloat64).reshape({-1}));  // [N]
    out.outputs.push_back(name);
  }
  out.values = torch::stack(columns, 1);  // [N, m]
  return out;
}

double relative_l2(const torch::Tensor& prediction, const torch::Tensor& truth) {
  TORCH_CHECK(prediction.numel() == truth.numel() && prediction.size(0) == truth.size(0),
              "relative_l2: prediction ", prediction.sizes(), " and truth ", truth.sizes(), " differ in shape");
  const auto p = prediction.detach().to(torch::kFloat64).reshape({-1});
  const auto t = truth.detach().to(p.device(), torch::kFloat64).reshape({-1});
  const double error = (p - t).norm().item<double>();
  const double scale = t.norm().item<double>();
  return scale > 0 ? error / scale : error;
}

std::vector<double> relative_l2_per_column(const torch::Tensor& prediction, const torch::Tensor& truth) {
  const auto p = as_columns(prediction), t = as_columns(truth);
  TORCH_CHECK(p.sizes() == t.sizes() && p.dim() == 2, "relative_l2_per_column: expected two [N, m] tensors but got ",
              prediction.sizes(), " and ", truth.sizes());
  std::vector<double> out;
  for (int64_t j = 0; j < p.size(1); ++j) out.push_back(relative_l2(p.select(1, j), t.select(1, j)));
  return out;
}

}  // namespace physis::pinn
