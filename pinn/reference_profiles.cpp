// Line profiles as references (Ghia et al. 1982 and similar centreline tables).
#include "core/strings.h"
#include "pinn/reference.h"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <limits>
#include <regex>

namespace physis::pinn {

ReferenceData read_profiles(const std::filesystem::path& file, const TableOptions& options) {
  const std::string name = file.string();
  if (options.inputs().size() != 2)
    throw ReferenceError(name, 0, "inputs", "profiles need exactly two inputs (a 2-D domain)");
  std::ifstream in(file);
  if (!in) throw ReferenceError(name, 0, "file", "cannot open the file");
  const auto& inputs = options.inputs();
  const auto& outputs = options.outputs();
  // <output>_at_<input><position>
  const std::regex line_name(R"(([A-Za-z_][A-Za-z0-9]*)_at_([A-Za-z_][A-Za-z0-9]*?)([-+]?[0-9.]+(?:[eE][-+]?[0-9]+)?))");
  std::vector<double> xs, ys, values;
  std::vector<int64_t> output_of;
  bool header = false;
  int line_number = 0;
  for (std::string line; std::getline(in, line);) {
    ++line_number;
    const std::string text = trim(line);
    if (text.empty() || text.front() == '#') continue;
    if (!header) {
      if (text != "line,coord,value")
        throw ReferenceError(name, line_number, "file", "expected the header 'line,coord,value', got '" + text + "'");
      header = true;
      continue;
    }
    std::vector<std::string> cells;
    size_t start = 0;
    for (size_t comma; (comma = text.find(',', start)) != std::string::npos; start = comma + 1)
      cells.push_back(trim(text.substr(start, comma - start)));
    cells.push_back(trim(text.substr(start)));
    std::smatch m;
    if (cells.size() != 3 || !std::regex_match(cells[0], m, line_name))
      throw ReferenceError(name, line_number, "file",
                           "expected '<output>_at_<input><position>,coord,value' (e.g. u_at_x0.5,0.25,-0.2), got '" +
                               text + "'");
    const auto output = std::find(outputs.begin(), outputs.end(), m[1].str());
    if (output == outputs.end())
      throw ReferenceError(name, line_number, "outputs",
                           "'" + m[1].str() + "' is not an output of the problem (" + join(outputs) + ")");
    const auto axis = std::find(inputs.begin(), inputs.end(), m[2].str());
    if (axis == inputs.end())
      throw ReferenceError(name, line_number, "inputs",
                           "'" + m[2].str() + "' is not an input of the problem (" + join(inputs) + ")");
    double position = 0, coord = 0, value = 0;
    try {
      position = std::stod(m[3].str());
      coord = std::stod(cells[1]);
      value = std::stod(cells[2]);
    } catch (const std::exception&) {
      throw ReferenceError(name, line_number, "file", "coord and value must be numbers: '" + text + "'");
    }
    const bool along_first = axis == inputs.begin();  // e.g. u_at_x0.5: x fixed, coord is y
    xs.push_back(along_first ? position : coord);
    ys.push_back(along_first ? coord : position);
    values.push_back(value);
    output_of.push_back(output - outputs.begin());
  }
  if (values.empty()) throw ReferenceError(name, 0, "file", "no profile rows");
  const auto n = static_cast<int64_t>(values.size());
  ReferenceData data;
  data.inputs = inputs;
  data.outputs = outputs;
  data.points = torch::stack({torch::tensor(xs, torch::kFloat64), torch::tensor(ys, torch::kFloat64)}, 1);
  data.values = torch::full({n, static_cast<int64_t>(outputs.size())}, std::numeric_limits<double>::quiet_NaN(),
                            torch::kFloat64);
  for (int64_t i = 0; i < n; ++i) data.values[i][output_of[i]] = values[i];
  return data;
}

}  // namespace physis::pinn
