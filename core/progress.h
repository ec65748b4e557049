// Progress reporting for long work: a live bar on a terminal, plain periodic lines otherwise.
#pragma once

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>

namespace physis {

enum class ProgressMode { automatic, bar, lines, none };
ProgressMode parse_progress_mode(const std::string& text);  // auto | bar | lines | none

class ProgressBar {
 public:
  // Counts from `start` to `total`; `label` prefixes each line. Lines mode prints every `line_every` units.
  ProgressBar(std::string label, int64_t total, int64_t start = 0, ProgressMode mode = ProgressMode::automatic,
              int64_t line_every = 100, std::FILE* stream = stderr);
  // Reports that `done` units are complete; `stats` is appended (e.g. "loss 1.2e-03").
  void update(int64_t done, const std::string& stats = "");
  // The last line: at `done` (the total when negative), with the elapsed time instead of the ETA.
  void finish(const std::string& stats = "", int64_t done = -1);

  static std::string format_duration(double seconds);  // "1:02:03" or "02:03"

 private:
  void draw(int64_t done, const std::string& stats, bool final);
  std::string label_;
  int64_t total_, start_, last_line_ = -1, line_every_;
  ProgressMode mode_;
  std::FILE* stream_;
  std::chrono::steady_clock::time_point t0_, last_draw_;
  bool finished_ = false;
};

}  // namespace physis
