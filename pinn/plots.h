// PNG images of results that need no ParaView: heat maps of fields on a 2-D grid and the loss history. Drawn by
// gnuplot (Debian package gnuplot-nox, terminal pngcairo) run as a separate process on a data file and a script
// left next to the image, so a figure can be restyled by editing the script and running `gnuplot <script>`.
// Without gnuplot each function prints a one-line warning and returns false: images never fail a run.
//
//   plot_fields(out_dir, "solution", grid, fields);                 // solution_u.png: u, u_ref, |u - u_ref|
//   plot_loss_history(out_dir / "history.csv", out_dir / "loss.png");
#pragma once

#include "pinn/field_output.h"

#include <filesystem>
#include <string>
#include <vector>

namespace physis::pinn {

// Whether an executable `gnuplot` is on PATH (looked up once).
bool gnuplot_available();

// For each output, <folder>/<stem>_<output>.png with heat maps of the prediction and, when fields.reference is
// given, of the reference (same colour range) and of |error|, titled with the relative L2 error. The grid must be
// 2-D (x fastest, as make_grid makes it; a space-time grid (x, t) works too); nodes with grid.valid false are left
// blank. Also writes <stem>_<output>.dat and .gp. Titles start with `caption` (default: the stem). Returns false
// when gnuplot is missing or fails.
bool plot_fields(const std::filesystem::path& folder, const std::string& stem, const EvaluationGrid& grid,
                 const FieldSet& fields, const std::string& caption = "");

// <png> from a trainer history CSV: the columns `loss` and `loss_*` against `step` on a log scale, and in a second
// panel the other numeric columns (metrics such as relative errors) when there are some; `phase`, `lr` and
// `elapsed_s` are left out, as are columns with no positive value. Writes <png without .png>.gp next to it.
bool plot_loss_history(const std::filesystem::path& history_csv, const std::filesystem::path& png);

}  // namespace physis::pinn
