#include "geometry/vtk_io.h"

#include "geometry/error.h"

#include <vtkCellArray.h>
#include <vtkCellType.h>
#include <vtkDataArray.h>
#include <vtkDoubleArray.h>
#include <vtkIdTypeArray.h>
#include <vtkImageData.h>
#include <vtkPointData.h>
#include <vtkPoints.h>
#include <vtkSmartPointer.h>
#include <vtkUnstructuredGrid.h>
#include <vtkXMLImageDataWriter.h>
#include <vtkXMLUnstructuredGridReader.h>
#include <vtkXMLUnstructuredGridWriter.h>

#include <fstream>

namespace physis::geometry {

namespace {

// [N, k] float64 contiguous CPU copy of a [N] or [N, k] tensor.
torch::Tensor as_columns(const torch::Tensor& t) {
  auto c = t.detach().to(torch::kCPU, torch::kFloat64);
  return (c.dim() == 1 ? c.unsqueeze(1) : c.reshape({c.size(0), -1})).contiguous();
}

void attach(vtkPointData* data, const NamedArrays& arrays, int64_t n) {
  for (const auto& [name, tensor] : arrays) {
    auto values = as_columns(tensor);
    if (values.size(0) != n)
      throw GeometryError("point array '" + name + "' has " + std::to_string(values.size(0)) + " rows but there are " +
                          std::to_string(n) + " points");
    auto array = vtkSmartPointer<vtkDoubleArray>::New();
    array->SetName(name.c_str());
    array->SetNumberOfComponents(static_cast<int>(values.size(1)));
    array->SetNumberOfTuples(n);
    std::copy(values.data_ptr<double>(), values.data_ptr<double>() + values.numel(), array->GetPointer(0));
    data->AddArray(array);
  }
}

vtkSmartPointer<vtkPoints> make_points(const torch::Tensor& points) {
  auto xyz = as_columns(points);                                                  // [N, d]
  TORCH_CHECK(xyz.size(1) >= 1 && xyz.size(1) <= 3, "write_vtu: expected points [N, 1..3] but got ", points.sizes());
  xyz = torch::constant_pad_nd(xyz, {0, 3 - xyz.size(1)}).contiguous();       // [N, 3], z = 0 in 2-D
  auto out = vtkSmartPointer<vtkPoints>::New();
  out->SetDataTypeToDouble();
  out->SetNumberOfPoints(xyz.size(0));
  for (int64_t i = 0; i < xyz.size(0); ++i) out->SetPoint(i, xyz[i].data_ptr<double>());
  return out;
}

void write_grid(const std::string& path, vtkUnstructuredGrid* grid) {
  auto writer = vtkSmartPointer<vtkXMLUnstructuredGridWriter>::New();
  writer->SetFileName(path.c_str());
  writer->SetInputData(grid);
  writer->SetDataModeToBinary();
  if (writer->Write() != 1)
    throw GeometryError("VTK could not write '" + path + "': check that the directory exists and is writable");
}

vtkSmartPointer<vtkUnstructuredGrid> grid_with_cells(const torch::Tensor& points, const torch::Tensor& cells,
                                                      int cell_type) {
  auto grid = vtkSmartPointer<vtkUnstructuredGrid>::New();
  grid->SetPoints(make_points(points));
  auto rows = cells.to(torch::kCPU, torch::kLong).contiguous();
  const int64_t k = rows.size(1);
  grid->Allocate(rows.size(0));
  std::vector<vtkIdType> ids(k);
  for (int64_t c = 0; c < rows.size(0); ++c) {
    const int64_t* p = rows[c].data_ptr<int64_t>();
    std::copy(p, p + k, ids.begin());
    grid->InsertNextCell(cell_type, static_cast<vtkIdType>(k), ids.data());
  }
  return grid;
}

}  // namespace

void write_vtu(const std::string& path, const torch::Tensor& points, const NamedArrays& point_data) {
  // A point cloud: one vertex cell per point, so ParaView shows it without a Glyph filter.
  auto vertices = torch::arange(points.size(0), torch::kLong).unsqueeze(1);
  auto grid = grid_with_cells(points, vertices, VTK_VERTEX);
  attach(grid->GetPointData(), point_data, points.size(0));
  write_grid(path, grid);
}

void write_vtu(const std::string& path, const Mesh& mesh, const NamedArrays& point_data) {
  auto grid = grid_with_cells(mesh.nodes.slice(1, 0, mesh.dim), mesh.cells, mesh.dim == 2 ? VTK_TRIANGLE : VTK_TETRA);
  attach(grid->GetPointData(), point_data, mesh.nodes.size(0));
  write_grid(path, grid);
}

void write_vti(const std::string& path, const std::vector<double>& origin, const std::vector<double>& spacing,
               const std::vector<int64_t>& dims, const NamedArrays& point_data) {
  if (dims.empty() || dims.size() > 3 || origin.size() != dims.size() || spacing.size() != dims.size())
    throw GeometryError("write_vti needs origin, spacing and dims of one length (1 to 3)");
  int extent[3] = {1, 1, 1};
  double o[3] = {0, 0, 0}, s[3] = {1, 1, 1};
  int64_t n = 1;
  for (size_t i = 0; i < dims.size(); ++i) {
    extent[i] = static_cast<int>(dims[i]);
    o[i] = origin[i];
    s[i] = spacing[i];
    n *= dims[i];
  }
  auto image = vtkSmartPointer<vtkImageData>::New();
  image->SetDimensions(extent);
  image->SetOrigin(o);
  image->SetSpacing(s);
  attach(image->GetPointData(), point_data, n);
  auto writer = vtkSmartPointer<vtkXMLImageDataWriter>::New();
  writer->SetFileName(path.c_str());
  writer->SetInputData(image);
  if (writer->Write() != 1)
    throw GeometryError("VTK could not write '" + path + "': check that the directory exists and is writable");
}

VtuData read_vtu(const std::string& path) {
  if (!std::ifstream(path).good())
    throw GeometryError("cannot open '" + path + "': check that it exists and is readable");
  auto reader = vtkSmartPointer<vtkXMLUnstructuredGridReader>::New();
  if (!reader->CanReadFile(path.c_str()))
    throw GeometryError("'" + path + "' is not a VTK XML unstructured grid (.vtu) file");
  reader->SetFileName(path.c_str());
  reader->Update();
  vtkUnstructuredGrid* grid = reader->GetOutput();
  VtuData out;
  const int64_t n = grid->GetNumberOfPoints();
  out.points = torch::empty({n, 3}, torch::kFloat64);
  for (int64_t i = 0; i < n; ++i) grid->GetPoint(i, out.points[i].data_ptr<double>());
  const int64_t cells = grid->GetNumberOfCells();
  std::vector<int64_t> connectivity, offsets{0}, types;
  for (int64_t c = 0; c < cells; ++c) {
    vtkIdType count = 0;
    const vtkIdType* ids = nullptr;
    grid->GetCellPoints(c, count, ids);
    connectivity.insert(connectivity.end(), ids, ids + count);
    offsets.push_back(static_cast<int64_t>(connectivity.size()));
    types.push_back(grid->GetCellType(c));
  }
  out.connectivity = torch::tensor(connectivity, torch::kLong);
  out.offsets = torch::tensor(offsets, torch::kLong);
  out.cell_types = torch::tensor(types, torch::kLong);
  vtkPointData* data = grid->GetPointData();
  for (int a = 0; a < data->GetNumberOfArrays(); ++a) {
    vtkDataArray* array = data->GetArray(a);
    if (!array || !array->GetName()) continue;
    const int k = array->GetNumberOfComponents();
    auto values = torch::empty({n, k}, torch::kFloat64);
    for (int64_t i = 0; i < n; ++i)
      for (int j = 0; j < k; ++j) values[i][j] = array->GetComponent(i, j);
    out.point_data[array->GetName()] = k == 1 ? values.squeeze(1) : values;
  }
  return out;
}

}  // namespace physis::geometry
