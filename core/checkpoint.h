// Crash-safe file writes: a killed process never leaves a truncated checkpoint or results file behind.
#pragma once

#include <filesystem>
#include <functional>
#include <ostream>

namespace physis {

// Writes `path` atomically: the bytes go to a temporary file in the same folder, are flushed to the disk, and the
// temporary file is renamed over `path` (an atomic replacement on POSIX file systems). If `write` throws or the
// process dies first, `path` keeps its previous content. Creates the parent folder when missing.
void atomic_write(const std::filesystem::path& path, const std::function<void(std::ostream&)>& write);

}  // namespace physis
