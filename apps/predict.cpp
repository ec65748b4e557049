// `physis predict RUN`: evaluates a trained operator surrogate on a dataset and writes prediction, truth and error
// for ParaView (.vti on grids, .vtu on point clouds), PNG images for 2D grids, and per-sample errors.
#include "apps/commands.h"
#include "apps/operator_data.h"
#include "core/config.h"
#include "core/csv.h"
#include "core/runtime.h"
#include "core/strings.h"
#include "operators/dataset_io.h"
#include "operators/surrogate.h"
#include "pinn/field_output.h"
#include "pinn/plots.h"

#include <filesystem>
#include <iostream>
#include <iomanip>
#include <sstream>

namespace physis::app {
namespace {

struct PredictArgs {
  std::string run;
  std::string data;
  std::string output;
  std::string device = "auto";
  std::vector<int64_t> samples;
  std::vector<std::string> drop;
  int64_t write_count = 4;
  int64_t batch_size = 20;
  int threads = 0;
};

// The data to predict on: --data FILE, or the test split of the configuration the run was trained with.
ops::Dataset prediction_data(const PredictArgs& a) {
  if (!a.data.empty()) return ops::read_dataset(a.data);
  const auto runfile = std::filesystem::path(a.run) / "run.yaml";
  if (!std::filesystem::exists(runfile))
    throw std::runtime_error(runfile.string() + ": not found; pass --data FILE to say what to predict on");
  const auto run = config::Section::load_file(runfile.string());
  const auto config_path = run.get<std::string>("config");
  auto root = config::Section::load_file(config_path, run.get("overrides", std::vector<std::string>{}));
  run.finish();
  root.mark_all_read();
  std::cout << "predicting on the test data of " << config_path << std::endl;
  return operator_train_and_test(root).second;
}

// Regular grids go to .vti (with PNG images in 2D), everything else to .vtu point clouds.
void write_sample(const std::filesystem::path& folder, const std::string& stem, const ops::Dataset& data,
                  int64_t index, const torch::Tensor& prediction) {
  const ops::Sample& s = data.samples[static_cast<size_t>(index)];
  const int64_t n = s.num_points();
  pinn::FieldSet fields;
  fields.points = s.coords.to(torch::kFloat64);
  fields.coordinates = data.coordinate_names;
  fields.outputs = data.target_names;
  if (fields.outputs.empty())
    for (int64_t c = 0; c < data.target_channels(); ++c) fields.outputs.push_back("u" + std::to_string(c));
  fields.prediction = prediction.narrow(0, 0, n);
  fields.reference = s.targets;
  if (data.grid_shape.empty()) {
    pinn::write_point_fields(folder, stem, fields);
    return;
  }
  pinn::EvaluationGrid grid;
  grid.points = fields.points;
  grid.dims = data.grid_shape;
  const auto lower = std::get<0>(grid.points.min(0)), upper = std::get<0>(grid.points.max(0));
  for (size_t k = 0; k < grid.dims.size(); ++k) {
    grid.origin.push_back(lower[static_cast<int64_t>(k)].item<double>());
    const double extent = upper[static_cast<int64_t>(k)].item<double>() - grid.origin.back();
    grid.spacing.push_back(grid.dims[k] > 1 ? extent / static_cast<double>(grid.dims[k] - 1) : 0.0);
  }
  grid.valid = s.mask.defined() ? s.mask > 0.5 : torch::ones({n}, torch::kBool);
  pinn::write_grid_fields(folder, stem, grid, fields);
  if (grid.dims.size() == 2) pinn::plot_fields(folder, stem, grid, fields);
}

// One row per sample and time: the predicted global quantities and, where the data carry them, the true ones.
// history: [B, T, g] predicted; returns the mean relative L2 over samples, or -1 without truth.
double write_history(const std::filesystem::path& file, const ops::Dataset& data, const torch::Tensor& history) {
  const auto truth = data.all();
  std::vector<std::string> names = data.history_names;
  for (auto c = static_cast<int64_t>(names.size()); c < history.size(2); ++c) names.push_back("h" + std::to_string(c));
  std::vector<std::string> header{"sample", "t"};
  for (const auto& name : names) header.push_back(name);
  if (truth.history.defined())
    for (const auto& name : names) header.push_back(name + "_true");
  CsvWriter table(file, header);
  const auto times = truth.times.to(torch::kFloat64).contiguous();
  const auto predicted = history.to(torch::kFloat64).contiguous();
  const auto reference = truth.history.defined() ? truth.history.to(torch::kFloat64).contiguous() : predicted;
  const auto t = times.accessor<double, 2>();
  const auto p = predicted.accessor<double, 3>(), r = reference.accessor<double, 3>();
  for (int64_t i = 0; i < history.size(0); ++i)
    for (int64_t k = 0; k < history.size(1); ++k) {
      std::vector<std::string> row{std::to_string(i), format_number(t[i][k])};
      for (int64_t c = 0; c < history.size(2); ++c) row.push_back(format_number(p[i][k][c]));
      if (truth.history.defined())
        for (int64_t c = 0; c < history.size(2); ++c) row.push_back(format_number(r[i][k][c]));
      table.write_row(row);
    }
  if (!truth.history.defined()) return -1;
  return ops::relative_l2_per_sample(history, truth.history, {}).mean().item<double>();
}

int predict(const PredictArgs& a) {
  auto rt = Runtime::create(RuntimeOptions().device(a.device).threads(a.threads));
  auto surrogate = ops::Surrogate::load(a.run);
  auto data = prediction_data(a);
  if (!a.samples.empty()) data = data.subset(a.samples);
  data = ops::without_parts(std::move(data), a.drop);
  surrogate->shape().check_fits(ops::OperatorShape::of(data), data.source);
  surrogate->to(rt.device);
  const auto predicted = surrogate->predict_with_history(data, a.batch_size, rt.device);
  const auto& prediction = predicted.field;  // [B, N, c]
  const auto truth = data.all();
  const auto errors = ops::relative_l2_per_sample(prediction, truth.targets, truth.weights());

  const std::filesystem::path out = a.output.empty() ? std::filesystem::path(a.run) / "predictions" : std::filesystem::path(a.output);
  std::filesystem::create_directories(out);
  CsvWriter table(out / "errors.csv", {"sample", "relative_l2"});
  for (int64_t i = 0; i < data.size(); ++i) table.write_row({std::to_string(i), format_number(errors[i].item<double>())});
  const int64_t written = std::min(a.write_count, data.size());
  for (int64_t i = 0; i < written; ++i) {
    std::ostringstream stem;
    stem << "sample_" << std::setw(4) << std::setfill('0') << i;
    write_sample(out, stem.str(), data, i, prediction[i]);
  }
  const double history_error =
      predicted.history.defined() ? write_history(out / "history.csv", data, predicted.history) : -1;
  std::cout << "physis predict: " << surrogate->handle().type << " on " << data.size() << " samples of " << data.source
            << ": mean relative L2 " << errors.mean().item<double>() << ", max " << errors.max().item<double>();
  if (history_error >= 0) std::cout << ", history mean relative L2 " << history_error;
  std::cout << "\nwrote " << out.string() << "/: errors.csv" << (predicted.history.defined() ? ", history.csv" : "")
            << " and the first " << written << " samples (prediction, reference, error) for ParaView" << std::endl;
  return 0;
}

}  // namespace

Command add_predict(CLI::App& app) {
  auto a = std::make_shared<PredictArgs>();
  app.add_option("run", a->run, "Results folder of `physis train-operator` (holds surrogate.yaml and model.pt)")
      ->required()
      ->check(CLI::ExistingDirectory);
  app.add_option("--data", a->data, "Dataset file (.h5 or .pt); default: the test split the model was trained with")
      ->check(CLI::ExistingFile);
  app.add_option("-o,--output", a->output, "Output folder (default: RUN/predictions)");
  app.add_option("--samples", a->samples, "Indices of the samples to predict (default: all)");
  app.add_option("--drop", a->drop,
                 "Parts of the data to leave out, as a training data section's `drop:` did: " +
                     join(ops::droppable_parts()))
      ->check(CLI::IsMember(ops::droppable_parts()))
      ->delimiter(',');
  app.add_option("--write", a->write_count, "How many samples to write as ParaView files and images")
      ->capture_default_str();
  app.add_option("--batch-size", a->batch_size, "Samples per forward pass")->capture_default_str();
  app.add_option("--device", a->device, "auto, cpu, cuda or cuda:N")->capture_default_str();
  app.add_option("--threads", a->threads, "Intra-op threads (default: one per core)");
  return [a]() { return predict(*a); };
}

}  // namespace physis::app
