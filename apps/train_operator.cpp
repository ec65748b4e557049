// `physis train-operator CONFIG`: trains a neural-operator surrogate on a dataset and saves it for `physis predict`.
#include "apps/commands.h"
#include "apps/training_run.h"
#include "core/checkpoint.h"
#include "core/config.h"
#include "core/runtime.h"
#include "apps/operator_data.h"
#include "operators/operator_training.h"

#include <yaml-cpp/yaml.h>

#include <filesystem>
#include <iostream>

namespace physis::app {
namespace {

struct TrainOperatorArgs {
  std::string config;
  std::string output;
  std::string device = "auto";
  std::string dtype = "float32";
  std::string progress;
  std::string init;
  std::vector<std::string> overrides;  // --set KEY=VALUE
  int64_t epochs = 0;
  uint64_t seed = 0;
  int threads = 0;
  bool resume = false;
  CLI::Option *device_opt = nullptr, *dtype_opt = nullptr, *seed_opt = nullptr;
};

void print_metrics(const char* label, const ops::OperatorMetrics& m, const ops::Dataset& data) {
  std::cout << label << ": mean relative L2 " << m.relative_l2 << ", MSE " << m.mse;
  if (m.relative_l2_channel.size() > 1)
    for (size_t c = 0; c < m.relative_l2_channel.size(); ++c)
      std::cout << ", " << (c < data.target_names.size() ? data.target_names[c] : "out" + std::to_string(c)) << " "
                << m.relative_l2_channel[c];
  if (m.has_history) std::cout << ", history relative L2 " << m.history_relative_l2;
  std::cout << " (" << data.size() << " samples)" << std::endl;
}

int train_operator(const TrainOperatorArgs& a) {
  auto root = config::Section::load_file(a.config, a.overrides);
  const std::string name = root.get<std::string>("name", std::filesystem::path(a.config).stem().string());
  auto training = root.child("training");
  RuntimeOptions runtime;
  runtime.seed(training.get<uint64_t>("seed", 0))
      .device(training.get<std::string>("device", "auto"))
      .dtype(training.get<std::string>("dtype", "float32"));
  if (a.device_opt->count()) runtime.device(a.device);
  if (a.dtype_opt->count()) runtime.dtype(a.dtype);
  if (a.seed_opt->count()) runtime.seed(a.seed);
  runtime.threads(a.threads);
  auto options = ops::OperatorTrainingOptions::from_config(training);
  if (a.epochs > 0) options.epochs(a.epochs);
  if (!a.progress.empty()) options.progress(a.progress);
  options.seed(runtime.seed());
  auto kinds = root.optional_child("normalize") ? ops::NormalizerKinds::from_config(root.child("normalize"))
                                                : ops::NormalizerKinds{};
  auto [train, test] = operator_train_and_test(root);
  auto rt = Runtime::create(runtime);
  auto surrogate = std::make_shared<ops::Surrogate>(root.child("model"), ops::OperatorShape::of(train), kinds);
  root.finish();
  if (!a.init.empty()) {
    // Transfer: go on training the pretrained surrogate itself (its weights and normalisers; the same model section).
    auto pretrained = ops::Surrogate::load(a.init);
    if (pretrained->model_yaml() != surrogate->model_yaml())
      throw std::runtime_error("--init " + a.init + ": its model section differs from this configuration's");
    pretrained->shape().check_fits(ops::OperatorShape::of(train), train.source);
    surrogate = pretrained;
    std::cout << "initialised from " << a.init << std::endl;
  } else {
    surrogate->fit_normalizers(train);
  }

  const std::string out = a.output.empty() ? "results/" + name : a.output;
  int64_t parameters = 0;
  for (const auto& p : surrogate->parameters()) parameters += p.numel();
  std::cout << "physis train-operator: " << name << ", " << surrogate->handle().type << " (" << parameters
            << " parameters) on " << train.size() << " training / " << test.size() << " test samples of "
            << train.source << "\n";
  ops::OperatorTraining run(surrogate, train, test, options, rt, out);
  std::cout << "device " << rt.device << ", " << dtype_name(rt.dtype) << ", " << rt.threads << " threads, "
            << options.epochs() << " epochs x " << run.batches_per_epoch() << " batches, results in " << out
            << std::endl;
  auto result = run_trainer(run.trainer(), a.resume);
  surrogate->save(out);
  // Where the data came from, so that `physis predict <out>` finds the test set without flags.
  // With the overrides, which predict applies again to find the same test split.
  atomic_write(std::filesystem::path(out) / "run.yaml", [&](std::ostream& stream) {
    YAML::Emitter yaml;
    yaml << YAML::BeginMap << YAML::Key << "config" << YAML::Value << std::filesystem::absolute(a.config).string();
    if (!a.overrides.empty()) yaml << YAML::Key << "overrides" << YAML::Value << a.overrides;
    yaml << YAML::EndMap;
    stream << yaml.c_str() << "\n";
  });
  report(result);
  print_metrics("train", run.evaluate(train), train);
  if (!test.empty()) print_metrics("test", run.evaluate(test), test);
  std::cout << "wrote " << out << "/: model.pt + surrogate.yaml (for physis predict), checkpoint.pt, history.csv"
            << std::endl;
  return 0;
}

}  // namespace

Command add_train_operator(CLI::App& app) {
  auto a = std::make_shared<TrainOperatorArgs>();
  app.add_option("config", a->config, "Training configuration (YAML): data, split, model, normalize, training")
      ->required()
      ->check(CLI::ExistingFile);
  app.add_option("-o,--output", a->output, "Results folder (default: results/<name>)");
  a->device_opt = app.add_option("--device", a->device, "auto, cpu, cuda or cuda:N (overrides the file)");
  a->dtype_opt = app.add_option("--dtype", a->dtype, "float32 or float64 (overrides the file)")
                     ->check(CLI::IsMember({"float32", "float64"}));
  app.add_option("--epochs", a->epochs, "Training epochs (overrides the file)")->check(CLI::PositiveNumber);
  a->seed_opt = app.add_option("--seed", a->seed, "Random seed (overrides the file)");
  app.add_option("--threads", a->threads, "Intra-op threads (default: one per core)");
  app.add_option("--progress", a->progress, "auto, bar, lines or none")
      ->check(CLI::IsMember({"auto", "bar", "lines", "none"}));
  add_set_option(app, a->overrides, "configuration", "model.basis=128 or --set training.lr=5e-4");
  app.add_flag("--resume", a->resume, "Continue from the checkpoint in the results folder");
  app.add_option("--init", a->init, "Start from the weights of a trained surrogate (fine-tuning / transfer)")
      ->check(CLI::ExistingDirectory);
  return [a]() { return train_operator(*a); };
}

}  // namespace physis::app
