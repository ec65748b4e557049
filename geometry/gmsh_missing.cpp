// Built instead of gmsh_*.cpp when the Gmsh SDK is absent: same symbols, clear errors.
#include "geometry/error.h"
#include "geometry/gmsh_io.h"

namespace physis::geometry {

namespace {
[[noreturn]] void missing(const std::string& what) {
  throw GeometryError(what + ": physis was built without Gmsh; install libgmsh-dev and reconfigure with "
                             "-DPHYSIS_GMSH=ON");
}
}  // namespace

Mesh read_msh(const std::string& path) { missing("reading " + path); }
void write_msh(const Mesh&, const std::string& path) { missing("writing " + path); }
Mesh mesh_with_gmsh(const GeometryPtr&, const GmshShapeOptions&) { missing("meshing a shape"); }

}  // namespace physis::geometry
