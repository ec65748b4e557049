#include "pinn/plots.h"

#include "core/checkpoint.h"
#include "core/csv.h"
#include "core/messages.h"
#include "pinn/reference.h"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <optional>
#include <sstream>

extern char** environ;

namespace physis::pinn {

namespace fs = std::filesystem;

namespace {

// Text for a single-quoted gnuplot string: quotes doubled, control characters dropped.
std::string gnuplot_string(const std::string& text) {
  std::string out = "'";
  for (char c : text) {
    if (c == '\'') out += "''";
    else if (static_cast<unsigned char>(c) >= 0x20) out += c;
  }
  return out + "'";
}

// Runs `gnuplot <script>` without a shell (names in the paths cannot inject commands); its output goes to
// <script>.log, which is removed when gnuplot succeeds.
bool run_gnuplot(const fs::path& script) {
  const std::string log = script.string() + ".log";
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);
  std::string program = "gnuplot", argument = script.string();
  char* argv[] = {program.data(), argument.data(), nullptr};
  pid_t pid = 0;
  const int spawned = posix_spawnp(&pid, "gnuplot", &actions, nullptr, argv, environ);
  posix_spawn_file_actions_destroy(&actions);
  if (spawned != 0) {
    warn("could not start gnuplot (" + std::string(std::strerror(spawned)) + "); no image from " + script.string());
    return false;
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0)
    if (errno != EINTR) return false;
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    warn("gnuplot failed on " + script.string() + "; its messages are in " + log);
    return false;
  }
  std::error_code ignored;
  fs::remove(log, ignored);
  return true;
}

bool check_gnuplot() {
  if (gnuplot_available()) return true;
  static bool warned = false;
  if (!warned) warn("gnuplot not found, so no PNG images (install gnuplot-nox to get them)");
  warned = true;
  return false;
}

std::string scientific(double value) {
  std::ostringstream out;
  out.precision(2);
  out << std::scientific << value;
  return out.str();
}

// How the panels of one field's figure are laid out: side by side at 500 x 480 pixels each, with equal axis scales
// for a spatial box that is not very elongated; a box more than 3:1 keeps its true shape too, the panels stacked
// (wide boxes) or side by side at its height (tall ones). An (x, t) plane has no shared scale: square panels.
struct PanelLayout {
  int rows = 1, columns = 1, width = 500, height = 480;
  bool true_aspect = false;
};

PanelLayout panel_layout(const EvaluationGrid& grid, const std::vector<std::string>& axes, int panels) {
  const double width = grid.spacing[0] * static_cast<double>(grid.dims[0] - 1);
  const double height = grid.spacing[1] * static_cast<double>(grid.dims[1] - 1);
  const bool spatial = axes[0] != "t" && axes[1] != "t";
  PanelLayout layout{1, panels, 500 * panels, 480, false};
  if (!spatial || width <= 0 || height <= 0) return layout;
  layout.true_aspect = true;
  const double aspect = width / height;
  if (aspect > 3) {  // wide: one panel per row, 1200 pixels across, each as tall as the box's shape asks
    const int row = std::max(150, static_cast<int>(std::lround(1000.0 / aspect)) + 110);
    layout = {panels, 1, 1200, row * panels + 40, true};
  } else if (aspect < 1.0 / 3) {  // tall: side by side, 900 pixels high
    const int column = std::max(220, static_cast<int>(std::lround(760.0 * aspect)) + 170);
    layout = {1, panels, column * panels, 900, true};
  }
  return layout;
}

// Lines shared by every heat map: a viridis-like palette, the aspect the layout chose, axes and labels.
void heatmap_setup(std::ostream& gp, const PanelLayout& layout, const std::vector<std::string>& axes) {
  gp << "set palette defined (0 '#440154', 1 '#3b528b', 2 '#21918c', 3 '#5ec962', 4 '#fde725')\n";
  gp << (layout.true_aspect ? "set size ratio -1\n" : "set size square\n");
  gp << "set autoscale xfix\nset autoscale yfix\nset tics out\nset xtics nomirror\nset ytics nomirror\n";
  gp << "set rmargin 9\n";  // room for the colour bar's labels
  gp << "set format cb '%g'\n";  // 0.003, not 0.003000000
  gp << "set xlabel " << gnuplot_string(axes[0]) << "\nset ylabel " << gnuplot_string(axes[1]) << "\n";
}

// [min, max] of the finite entries of the tensors, or nothing when there are none.
std::optional<std::pair<double, double>> finite_range(const std::vector<torch::Tensor>& tensors) {
  auto all = torch::cat(tensors);
  all = all.index({torch::isfinite(all)});
  if (all.numel() == 0) return std::nullopt;
  return std::pair{all.min().item<double>(), all.max().item<double>()};
}

void plot_panel(std::ostream& gp, const fs::path& data, int column, const std::string& title,
                const std::optional<std::pair<double, double>>& range) {
  gp << "set title " << gnuplot_string(title) << "\n";
  if (range && range->first < range->second)
    gp << "set cbrange [" << format_number(range->first) << ":" << format_number(range->second) << "]\n";
  else
    gp << "set autoscale cb\n";
  gp << "plot " << gnuplot_string(data.string()) << " using 1:2:" << column << " with image notitle\n";
}

bool plot_one_field(const fs::path& folder, const std::string& stem, const EvaluationGrid& grid,
                    const std::vector<std::string>& axes, const std::string& name, const torch::Tensor& u,
                    const torch::Tensor& u_ref, const std::string& caption) {
  const auto base = folder / (stem + "_" + name);
  const auto data = fs::absolute(base).string() + ".dat", script = base.string() + ".gp";
  const auto png = fs::absolute(base).string() + ".png";
  const auto nan = torch::full({}, std::nan(""), torch::kFloat64);
  std::vector<torch::Tensor> columns{grid.points.select(1, 0), grid.points.select(1, 1),
                                     torch::where(grid.valid, u, nan)};
  if (u_ref.defined()) {
    columns.push_back(torch::where(grid.valid, u_ref, nan));
    columns.push_back((columns[2] - columns[3]).abs());
  }
  const auto table = torch::stack(columns, 1).contiguous();  // [N, 3 or 5], x fastest
  atomic_write(data, [&](std::ostream& out) {
    out << "# " << axes[0] << " " << axes[1] << " " << name;
    if (u_ref.defined()) out << " " << name << "_ref " << name << "_err";
    out << "\n";
    const double* row = table.data_ptr<double>();
    for (int64_t r = 0; r < table.size(0); ++r, row += table.size(1)) {
      for (int64_t c = 0; c < table.size(1); ++c) out << (c ? " " : "") << format_number(row[c]);
      out << "\n";
      if ((r + 1) % grid.dims[0] == 0) out << "\n";  // a blank line ends each scan line
    }
  });

  const int panels = u_ref.defined() ? 3 : 1;
  std::string title = (caption.empty() ? stem : caption) + ": " + name;
  if (u_ref.defined())
    title += ", relative L2 error " + scientific(relative_l2(u.index({grid.valid}), u_ref.index({grid.valid})));
  atomic_write(script, [&](std::ostream& gp) {
    const auto layout = panel_layout(grid, axes, panels);
    gp << "set terminal pngcairo size " << layout.width << "," << layout.height << " noenhanced font ',11'\n";
    gp << "set output " << gnuplot_string(png) << "\n";
    gp << "set multiplot layout " << layout.rows << "," << layout.columns << " title " << gnuplot_string(title)
       << "\n";
    heatmap_setup(gp, layout, axes);
    if (!u_ref.defined()) {
      plot_panel(gp, data, 3, name + " (prediction)", std::nullopt);
    } else {
      const auto shared = finite_range({columns[2], columns[3]});  // prediction and reference on one scale
      plot_panel(gp, data, 3, name + " (prediction)", shared);
      plot_panel(gp, data, 4, name + "_ref (reference)", shared);
      plot_panel(gp, data, 5, "|" + name + " - " + name + "_ref|", finite_range({columns[4]}));
    }
    gp << "unset multiplot\n";
  });
  return run_gnuplot(script);
}

std::vector<std::string> split_csv_line(const std::string& line) {
  std::vector<std::string> cells;
  std::stringstream in(line);
  for (std::string cell; std::getline(in, cell, ',');) {
    if (!cell.empty() && cell.back() == '\r') cell.pop_back();
    cells.push_back(cell);
  }
  return cells;
}

// Which columns of a CSV hold at least one positive finite number (the ones a log scale can show).
std::vector<bool> positive_columns(std::istream& in, size_t width) {
  std::vector<bool> positive(width, false);
  for (std::string line; std::getline(in, line);) {
    const auto cells = split_csv_line(line);
    for (size_t c = 0; c < std::min(width, cells.size()); ++c) {
      char* end = nullptr;
      const double value = std::strtod(cells[c].c_str(), &end);
      if (end != cells[c].c_str() && std::isfinite(value) && value > 0) positive[c] = true;
    }
  }
  return positive;
}

void plot_columns(std::ostream& gp, const std::string& csv, size_t step, const std::vector<size_t>& columns,
                  const std::vector<std::string>& header, const char* style) {
  gp << "plot ";
  for (size_t i = 0; i < columns.size(); ++i)
    gp << (i ? ", " : "") << gnuplot_string(i ? "" : csv) << " skip 1 using " << step + 1 << ":" << columns[i] + 1 << " with "
       << style << " title " << gnuplot_string(header[columns[i]]);
  gp << "\n";
}

}  // namespace

bool gnuplot_available() {
  static const bool found = [] {
    const char* path = std::getenv("PATH");
    std::stringstream dirs(path ? path : "");
    for (std::string dir; std::getline(dirs, dir, ':');)
      if (!dir.empty() && ::access((fs::path(dir) / "gnuplot").c_str(), X_OK) == 0) return true;
    return false;
  }();
  return found;
}

bool plot_fields(const fs::path& folder, const std::string& stem, const EvaluationGrid& grid, const FieldSet& fields,
                 const std::string& caption) {
  TORCH_CHECK(grid.dims.size() == 2, "plot_fields: needs a 2-D grid but got ", grid.dims.size(), " axes");
  if (!check_gnuplot()) return false;
  const auto arrays = field_arrays(fields);  // u[, u_ref, u_err] per output
  TORCH_CHECK(arrays.front().second.size(0) == grid.size(), "plot_fields: ", arrays.front().second.size(0),
              " rows for a grid of ", grid.size(), " nodes");
  std::vector<std::string> axes = fields.coordinates.empty() ? std::vector<std::string>{"x", "y"} : fields.coordinates;
  TORCH_CHECK(axes.size() == 2, "plot_fields: expected 2 coordinate names but got ", axes.size());
  fs::create_directories(folder);
  const size_t per_output = fields.reference.defined() ? 3 : 1;
  bool all = true;
  for (size_t j = 0; j < fields.outputs.size(); ++j) {
    const auto& u = arrays[j * per_output].second;
    const auto u_ref = fields.reference.defined() ? arrays[j * per_output + 1].second : torch::Tensor();
    all = plot_one_field(folder, stem, grid, axes, fields.outputs[j], u, u_ref, caption) && all;
  }
  return all;
}

bool plot_loss_history(const fs::path& history_csv, const fs::path& png) {
  if (!check_gnuplot()) return false;
  std::ifstream in(history_csv);
  std::string header_line;
  if (!in || !std::getline(in, header_line)) {
    warn("cannot read " + history_csv.string() + "; no loss plot");
    return false;
  }
  const auto header = split_csv_line(header_line);
  const auto positive = positive_columns(in, header.size());
  size_t step = 0;
  std::vector<size_t> losses, metrics;
  for (size_t c = 0; c < header.size(); ++c) {
    const auto& name = header[c];
    if (name == "step") step = c;
    if (name == "step" || name == "phase" || name == "lr" || name == "elapsed_s" || !positive[c]) continue;
    (name == "loss" || name.rfind("loss_", 0) == 0 ? losses : metrics).push_back(c);
  }
  if (losses.empty() && metrics.empty()) {
    warn(history_csv.string() + " has no positive loss or metric column; no loss plot");
    return false;
  }
  auto script = png;
  script.replace_extension(".gp");
  const std::string csv = fs::absolute(history_csv).string();
  const int panels = (losses.empty() ? 0 : 1) + (metrics.empty() ? 0 : 1);
  atomic_write(script, [&](std::ostream& gp) {
    gp << "set terminal pngcairo size 1000," << 380 * panels << " noenhanced font ',11'\n";
    gp << "set output " << gnuplot_string(fs::absolute(png).string()) << "\n";
    gp << "set datafile separator ','\n";
    gp << "set multiplot layout " << panels << ",1\n";
    gp << "set logscale y\nset format y '%.0e'\nset grid\nset key outside right\n";
    gp << "set xlabel " << gnuplot_string(header[step]) << "\n";
    if (!losses.empty()) {
      gp << "set title 'loss'\n";
      plot_columns(gp, csv, step, losses, header, "lines lw 1.5");
    }
    if (!metrics.empty()) {
      gp << "set title 'metrics'\n";
      plot_columns(gp, csv, step, metrics, header, "linespoints pt 7 ps 0.5");
    }
    gp << "unset multiplot\n";
  });
  return run_gnuplot(script);
}

}  // namespace physis::pinn
