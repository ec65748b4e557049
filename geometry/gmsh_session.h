// One RAII guard for Gmsh's global state (compiled only with the Gmsh SDK).
//
// Gmsh is a process-wide singleton and not thread-safe: every physis use of it holds a GmshSession, which
// serialises users with a recursive mutex, initialises Gmsh on the outermost session and finalises it when that
// session ends, so nested and repeated uses from several places are safe.
#pragma once

#include "geometry/mesh.h"

#include <mutex>

namespace physis::geometry {

class GmshSession {
 public:
  GmshSession();
  ~GmshSession();
  GmshSession(const GmshSession&) = delete;
  GmshSession& operator=(const GmshSession&) = delete;

 private:
  std::unique_lock<std::recursive_mutex> lock_;
};

// The mesh of Gmsh's current model; call inside a session.
Mesh current_gmsh_mesh();

}  // namespace physis::geometry
