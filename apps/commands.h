// Subcommands of the physis executable. Each registers its options on the CLI11 app and returns the
// function that runs it (exit code).
#pragma once

#include <CLI/CLI.hpp>

#include <functional>
#include <string>
#include <vector>

namespace physis::app {

using Command = std::function<int()>;

Command add_info(CLI::App& app);
Command add_solve(CLI::App& app);
Command add_datagen(CLI::App& app);
Command add_train_operator(CLI::App& app);
Command add_predict(CLI::App& app);

// The repeatable `--set KEY=VALUE` option (config::Section::set) of a command whose input is `what`.
CLI::Option* add_set_option(CLI::App& app, std::vector<std::string>& overrides, const std::string& what,
                            const std::string& example);

}  // namespace physis::app
