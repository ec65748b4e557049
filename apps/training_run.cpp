#include "apps/training_run.h"

#include "apps/commands.h"

#include <cmath>
#include <filesystem>
#include <iostream>
#include <stdexcept>

namespace physis::app {

CLI::Option* add_set_option(CLI::App& app, std::vector<std::string>& overrides, const std::string& what,
                            const std::string& example) {
  return app.add_option("--set", overrides,
                        "KEY=VALUE: change a key of the " + what + ", e.g. --set " + example +
                            " (repeatable; VALUE is YAML; give the same with --resume)")
      ->expected(1)
      ->allow_extra_args(false)  // one value per --set: a file named after it stays the positional
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
}

TrainResult run_trainer(Trainer& trainer, bool resume, int64_t until) {
  if (resume) {
    if (!trainer.resume())
      throw std::runtime_error("--resume: no checkpoint at '" + trainer.checkpoint_path().string() +
                               "'; run without --resume to start");
    std::cout << "resumed at step " << trainer.step() << std::endl;
  } else if (std::filesystem::exists(trainer.checkpoint_path())) {
    throw std::runtime_error("'" + trainer.options().output_dir() + "' already holds a run; pass --resume to continue "
                             "it or --output to write elsewhere (nothing was overwritten)");
  }
  return trainer.run(until);
}

void report(const TrainResult& result) {
  if (result.steps == result.start)  // the checkpoint had already reached the last step
    std::cout << "done: nothing left to train at step " << result.steps;
  else
    std::cout << "done: " << result.steps << " steps in " << result.seconds << " s, final loss " << result.loss;
  for (const auto& [name, value] : result.metrics) std::cout << ", " << name << " " << value;
  std::cout << std::endl;
}

}  // namespace physis::app
