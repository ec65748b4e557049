// ParaView collection files are a few lines of XML: written directly, no VTK needed.
#include "geometry/error.h"
#include "geometry/vtk_io.h"

#include <fstream>
#include <iomanip>

namespace physis::geometry {

void write_pvd(const std::string& path, const std::vector<std::pair<double, std::string>>& time_files) {
  std::ofstream out(path);
  if (!out) throw GeometryError("cannot write '" + path + "': check that the directory exists and is writable");
  out << "<?xml version=\"1.0\"?>\n<VTKFile type=\"Collection\" version=\"0.1\">\n  <Collection>\n";
  out << std::setprecision(17);
  for (const auto& [time, file] : time_files)
    out << "    <DataSet timestep=\"" << time << "\" group=\"\" part=\"0\" file=\"" << file << "\"/>\n";
  out << "  </Collection>\n</VTKFile>\n";
}

}  // namespace physis::geometry
