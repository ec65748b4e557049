// Built instead of vtk_*.cpp when VTK is absent: same symbols, clear errors.
#include "geometry/error.h"
#include "geometry/vtk_io.h"

namespace physis::geometry {

namespace {
[[noreturn]] void missing(const std::string& path) {
  throw GeometryError("'" + path + "': physis was built without VTK; install libvtk9-dev and reconfigure with "
                      "-DPHYSIS_VTK=ON");
}
}  // namespace

void write_vtu(const std::string& path, const torch::Tensor&, const NamedArrays&) { missing(path); }
void write_vtu(const std::string& path, const Mesh&, const NamedArrays&) { missing(path); }
void write_vti(const std::string& path, const std::vector<double>&, const std::vector<double>&,
               const std::vector<int64_t>&, const NamedArrays&) { missing(path); }
VtuData read_vtu(const std::string& path) { missing(path); }

}  // namespace physis::geometry
