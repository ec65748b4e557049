// Built instead of gmsh_column.cpp when the Gmsh SDK is absent: the same symbol, a clear error.
#include "geometry/error.h"
#include "operators/fea_column.h"

namespace physis::ops {

FeMesh mesh_column(const ColumnDesign&, const FeaColumnOptions&) {
  throw geometry::GeometryError("meshing an FEA column: physis was built without Gmsh; install libgmsh-dev and "
                                "reconfigure with -DPHYSIS_GMSH=ON");
}

}  // namespace physis::ops
