// physis: physics-informed neural networks and neural operators on LibTorch.
#include "apps/commands.h"
#include "core/build_config.h"
#include "core/config.h"
#include "core/trainer.h"

#include <c10/util/Exception.h>

#include <iostream>
#include <map>

int main(int argc, char** argv) {
  using namespace physis::app;
  CLI::App app{"physis " PHYSIS_VERSION " - physics-informed neural networks and neural operators on LibTorch"};
  app.require_subcommand(1);
  app.set_version_flag("--version", PHYSIS_VERSION);
  std::map<CLI::App*, Command> commands;
  auto add = [&](const char* name, const char* description, auto&& make) {
    auto* sub = app.add_subcommand(name, description);
    commands[sub] = make(*sub);
  };
  add("info", "Versions, devices, threads and BLAS/OpenMP in use", add_info);
  add("solve", "Train a PINN on a problem file (or the built-in 2D Poisson problem) and write results", add_solve);
  add("train-operator", "Train a neural-operator surrogate on a dataset", add_train_operator);
  add("predict", "Predict with a trained operator surrogate and write ParaView files", add_predict);
  add("datagen", "Generate a dataset of simulations for operator learning",
      add_datagen);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    // --help and --version exit 0; every usage mistake exits 2.
    return code == 0 ? 0 : 2;
  }
  try {
    for (auto* sub : app.get_subcommands()) return commands.at(sub)();
  } catch (const physis::config::ConfigError& e) {
    std::cerr << "physis: error: " << e.what() << "\n";
    return 1;
  } catch (const physis::TrainingDiverged& e) {
    std::cerr << "physis: error: " << e.what() << "\n";
    return 3;
  } catch (const c10::Error& e) {
    std::cerr << "physis: error: " << e.what_without_backtrace() << "\n";
    return 1;
  } catch (const std::exception& e) {
    std::cerr << "physis: error: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
