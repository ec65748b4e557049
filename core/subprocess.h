// Running an external program without a shell: an argument vector, a working folder, its output into a log file,
// and a timeout.
//
//   ProcessOptions options;
//   options.cwd = job_folder;
//   options.log = job_folder / "ccx.log";
//   options.timeout = 60;
//   ProcessResult r = run_process({"ccx", "-i", "job"}, options);   // throws ProcessStartError if ccx is missing
//   if (!r.succeeded()) ...
//
// The arguments go to the program as they are (no shell, so no quoting and no injection); a first argument
// without a '/' is looked up on PATH.
#pragma once

#include <cerrno>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace physis {

// The program could not be started; code() is the errno (ENOENT: not found, EACCES: not executable).
class ProcessStartError : public std::runtime_error {
 public:
  ProcessStartError(const std::string& what, int code) : std::runtime_error(what), code_(code) {}
  int code() const { return code_; }

 private:
  int code_;
};

struct ProcessOptions {
  std::filesystem::path cwd;  // empty: the current folder
  std::filesystem::path log;  // stdout and stderr, truncated first; empty: discarded
  double timeout = 0;         // seconds; 0: none. After it the program is killed (SIGKILL).
  std::vector<std::pair<std::string, std::string>> environment;  // set on top of this process's environment
};

struct ProcessResult {
  int exit_code = -1;      // the exit status when the program exited, else -1
  int signal = 0;          // the signal that ended it, 0 when it exited
  bool timed_out = false;  // killed after the timeout
  double seconds = 0;      // wall time

  bool succeeded() const { return exit_code == 0; }
  std::string describe() const;  // "exit status 3", "killed by signal 9", "timed out after 60 s"
};

// Runs argv[0] with the arguments argv[1..] and waits for it; thread-safe.
ProcessResult run_process(const std::vector<std::string>& argv, const ProcessOptions& options = {});

}  // namespace physis
