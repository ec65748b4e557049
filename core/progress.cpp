#include "core/progress.h"

#include <unistd.h>

#include <cmath>
#include <stdexcept>

namespace physis {

ProgressMode parse_progress_mode(const std::string& text) {
  if (text == "auto") return ProgressMode::automatic;
  if (text == "bar") return ProgressMode::bar;
  if (text == "lines") return ProgressMode::lines;
  if (text == "none") return ProgressMode::none;
  throw std::invalid_argument("unknown progress mode '" + text + "': expected auto, bar, lines or none");
}

ProgressBar::ProgressBar(std::string label, int64_t total, int64_t start, ProgressMode mode, int64_t line_every,
                         std::FILE* stream)
    : label_(std::move(label)),
      total_(total),
      start_(start),
      line_every_(std::max<int64_t>(1, line_every)),
      mode_(mode),
      stream_(stream),
      t0_(std::chrono::steady_clock::now()),
      last_draw_(t0_ - std::chrono::seconds(1)) {
  if (mode_ == ProgressMode::automatic) mode_ = ::isatty(::fileno(stream_)) ? ProgressMode::bar : ProgressMode::lines;
}

std::string ProgressBar::format_duration(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0) return "--:--";
  auto s = static_cast<int64_t>(std::llround(seconds));
  char buf[32];
  if (s >= 3600)
    std::snprintf(buf, sizeof buf, "%lld:%02lld:%02lld", static_cast<long long>(s / 3600),
                  static_cast<long long>(s / 60 % 60), static_cast<long long>(s % 60));
  else
    std::snprintf(buf, sizeof buf, "%02lld:%02lld", static_cast<long long>(s / 60), static_cast<long long>(s % 60));
  return buf;
}

void ProgressBar::update(int64_t done, const std::string& stats) {
  if (mode_ == ProgressMode::none || finished_) return;
  const auto now = std::chrono::steady_clock::now();
  if (mode_ == ProgressMode::bar) {
    if (now - last_draw_ < std::chrono::milliseconds(100) && done < total_) return;
    last_draw_ = now;
    draw(done, stats, false);
  } else if (done / line_every_ != last_line_ / line_every_ || last_line_ < 0) {
    if (done % line_every_ != 0 && done != total_) return;
    last_line_ = done;
    draw(done, stats, false);
  }
}

void ProgressBar::finish(const std::string& stats, int64_t done) {
  if (mode_ == ProgressMode::none || finished_) return;
  draw(done < 0 ? total_ : done, stats, true);
  finished_ = true;
}

void ProgressBar::draw(int64_t done, const std::string& stats, bool final) {
  const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0_).count();
  const double per_second = elapsed > 0 ? static_cast<double>(done - start_) / elapsed : 0.0;
  const double eta = per_second > 0 ? static_cast<double>(total_ - done) / per_second : NAN;
  const double fraction = total_ > 0 ? static_cast<double>(done) / static_cast<double>(total_) : 1.0;
  char rate[64];
  std::snprintf(rate, sizeof rate, "%.1f/s", per_second);
  std::string timing = final ? "elapsed " + format_duration(elapsed) : "ETA " + format_duration(eta);
  if (mode_ == ProgressMode::bar) {
    constexpr int width = 24;
    const int filled = static_cast<int>(fraction * width);
    std::string bar(filled, '=');
    if (filled < width) bar += '>' + std::string(width - filled - 1, ' ');
    std::fprintf(stream_, "\r\033[2K%s [%s] %lld/%lld %s %s  %s%s", label_.c_str(), bar.c_str(),
                 static_cast<long long>(done), static_cast<long long>(total_), rate, timing.c_str(), stats.c_str(),
                 final ? "\n" : "");
  } else {
    std::fprintf(stream_, "%s %lld/%lld (%3.0f%%) %s %s  %s\n", label_.c_str(), static_cast<long long>(done),
                 static_cast<long long>(total_), 100 * fraction, rate, timing.c_str(), stats.c_str());
  }
  std::fflush(stream_);
}

}  // namespace physis
