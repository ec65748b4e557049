#include "geometry/gmsh_session.h"

#include <gmsh.h>

namespace physis::geometry {

namespace {
std::recursive_mutex& gmsh_mutex() {
  static std::recursive_mutex mutex;
  return mutex;
}
int depth = 0;  // sessions open in the thread holding the mutex
}  // namespace

GmshSession::GmshSession() : lock_(gmsh_mutex()) {
  if (depth++ == 0) {
    gmsh::initialize(0, nullptr, /*readConfigFiles=*/false);
    gmsh::option::setNumber("General.Terminal", 0);     // errors come back as exceptions, not console noise
    gmsh::option::setNumber("General.AbortOnError", 2);  // throw instead of exiting
  }
}

GmshSession::~GmshSession() {
  if (--depth == 0) gmsh::finalize();
}

}  // namespace physis::geometry
