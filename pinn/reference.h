// Reference solutions to measure a PINN against: tables exported by COMSOL, plain column files, CSV, or exact
// solutions given as expressions. Every reader returns the same ReferenceData: points in the problem's input order
// and one value column per named output.
//
//   auto ns = read_comsol(dir / "lid_driven_a4.dat", TableOptions().inputs({"x", "y"}).outputs({"u", "v", "p"}));
//   auto burgers = read_comsol(dir / "burgers1d.dat", TableOptions().inputs({"x", "t"}).outputs({"u"}));
//   double err = relative_l2(model(ns.points), ns.values);
//
// In YAML (relative paths are resolved against the folder of the YAML file):
//   reference: {file: ../reference/burgers1d.dat, format: comsol, inputs: [x, t], outputs: [u]}
#pragma once

#include "core/config.h"
#include "pinn/expression.h"

#include <torch/arg.h>
#include <torch/types.h>

#include <filesystem>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace physis::pinn {

struct ReferenceData {
  torch::Tensor points;  // [N, d] float64, columns = inputs
  torch::Tensor values;  // [N, m] float64, columns = outputs
  std::vector<std::string> inputs;
  std::vector<std::string> outputs;

  int64_t size() const { return points.defined() ? points.size(0) : 0; }
  // [N] values of one output; throws std::out_of_range naming the known outputs.
  torch::Tensor column(const std::string& output) const;
  // [N, k] points with their columns in the order of `inputs` (a problem's); throws std::out_of_range
  // "no column for input '<name>'".
  torch::Tensor points_in(const std::vector<std::string>& inputs) const;
};

// How the columns of a table file map onto a problem's inputs and outputs.
//
// Plain layout (one row per point): every input and output names a file column.
// Time-series layout (COMSOL's "u @ t=0  u @ t=0.1 ..."): the rows hold the spatial inputs, each output has one
// column per time, and the points become (spatial..., t) for every time, time-major (all rows at the first time,
// then all rows at the second...). The reader picks it when `time` is an input that no column is called.
struct TableOptions {
  TORCH_ARG(std::vector<std::string>, inputs);   // problem inputs in order, e.g. {"x", "y"} or {"x", "t"}
  TORCH_ARG(std::vector<std::string>, outputs);  // problem outputs in order, e.g. {"u", "v", "p"}
  // Names of the file's columns, for files without a header line; empty: inputs then outputs (time series:
  // spatial inputs, then the outputs at the first time, the outputs at the second time...).
  TORCH_ARG(std::vector<std::string>, columns);
  // Times of the slices of a time-series file; empty: read from the header ("@ t=0.1"). When both exist they
  // must agree in number.
  TORCH_ARG(std::vector<double>, times);
  TORCH_ARG(std::string, time) = "t";  // the input that a time-series layout fills
};

// A mistake in a reference file or in how it is mapped. what() reads "<file>:<line>: <message>" (no line when the
// mistake is not on one line). option() names the TableOptions field at fault ("file", "inputs", "outputs",
// "columns", "times"), so a YAML loader can point at the key that set it.
class ReferenceError : public std::runtime_error {
 public:
  ReferenceError(std::string file, int line, std::string option, const std::string& message);
  const std::string& file() const { return file_; }
  int line() const { return line_; }  // 1-based, 0 when not about one line
  const std::string& option() const { return option_; }

 private:
  std::string file_;
  int line_;
  std::string option_;
};

// COMSOL text export or a header-less whitespace table: lines starting with '%' are header, the last one names
// the columns ("% x  y  u (m/s)  v @ Re=100"; units in parentheses and "@ parameter" suffixes are read, not part
// of the name). Names match the options exactly, else case-insensitively ("X" for "x").
ReferenceData read_comsol(const std::filesystem::path& file, const TableOptions& options);

// CSV with a header row of column names ('#' lines before it are comments); plain layout only.
ReferenceData read_csv(const std::filesystem::path& file, const TableOptions& options);

// Profiles along lines of a 2-D domain, the layout of Ghia et al.'s cavity tables: a CSV "line,coord,value" ('#'
// lines are comments) whose line names read <output>_at_<input><position>, e.g. "u_at_x0.5" = u along x = 0.5, with
// coord the other input. Every row becomes one point; outputs a row does not give are NaN there (metrics leave
// NaN entries out). Two inputs only.
ReferenceData read_profiles(const std::filesystem::path& file, const TableOptions& options);

// Parses {file, format: comsol|columns|csv|profiles, inputs, outputs, columns, times, time} and reads the file. format
// defaults to csv for *.csv and comsol otherwise ("columns" is the same reader, for files without a header);
// inputs and outputs default to the given problem names. Reads every key of the section (finish() is called).
// Throws config::ConfigError at the offending key, with the data file's line in the message.
ReferenceData load_reference(const config::Section& section, const std::vector<std::string>& default_inputs = {},
                             const std::vector<std::string>& default_outputs = {});

// An exact solution sampled at points [N, d]: one coordinate expression per output, in output order. The points
// keep their device and become float64.
ReferenceData reference_from_exact(const std::vector<std::pair<std::string, Expression>>& exact,
                                   const torch::Tensor& points, const std::vector<std::string>& inputs = {});

// ||prediction - truth||_2 / ||truth||_2 over all entries, computed in float64. Shapes must match ([N] and [N, 1]
// are the same). When truth is all zero the relative error is undefined and the absolute norm is returned.
double relative_l2(const torch::Tensor& prediction, const torch::Tensor& truth);
// The same for each column of [N, m] tensors.
std::vector<double> relative_l2_per_column(const torch::Tensor& prediction, const torch::Tensor& truth);

}  // namespace physis::pinn
