// Messages to the user that do not stop the run, on stderr with a fixed prefix so that logs can be searched.
#pragma once

#include <iostream>
#include <string>

namespace physis {

// Something the user should act on (the run goes on, but its results may mislead).
inline void warn(const std::string& message) { std::cerr << "warning: " << message << std::endl; }
// Something the user may want to know (a feature left out of this build, a default taken).
inline void note(const std::string& message) { std::cerr << "note: " << message << std::endl; }

}  // namespace physis
