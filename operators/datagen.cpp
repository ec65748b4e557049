#include "operators/datagen.h"

#include "core/strings.h"

#include "geometry/ball.h"
#include "geometry/box.h"
#include "geometry/csg.h"
#include "geometry/polygon.h"
#include "operators/darcy.h"
#include "operators/grf.h"
#include "operators/sample_workers.h"

#include <c10/util/Exception.h>

#include <algorithm>
#include <cmath>
#include <optional>
#include <stdexcept>

namespace physis::ops {

namespace {

const auto f64 = torch::TensorOptions().dtype(torch::kFloat64);

using detail::generate_samples;
using detail::NoState;

// Every `stride`-th row and column of a [n, n] grid field, flattened x fastest to [m * m, 1].
torch::Tensor subsample(const torch::Tensor& grid, int64_t stride) {
  return grid.slice(0, 0, grid.size(0), stride).slice(1, 0, grid.size(1), stride).reshape({-1, 1});
}

}  // namespace

// --- Antiderivative --------------------------------------------------------------------------------------------

torch::Tensor cumulative_integral(const torch::Tensor& values, double h) {
  TORCH_CHECK(values.dim() == 1 && values.size(0) >= 3, "cumulative_integral: expected [M >= 3] but got ",
              values.sizes());
  auto u_tensor = values.to(torch::kFloat64).contiguous();
  const double* u = u_tensor.data_ptr<double>();
  const int64_t m = values.size(0);
  auto result = torch::zeros({m}, f64);
  double* s = result.data_ptr<double>();
  for (int64_t k = 2; k < m; k += 2) s[k] = s[k - 2] + h / 3.0 * (u[k - 2] + 4.0 * u[k - 1] + u[k]);
  for (int64_t k = 1; k < m; k += 2)
    s[k] = k + 1 < m ? s[k - 1] + h / 12.0 * (5.0 * u[k - 1] + 8.0 * u[k] - u[k + 1])
                     : s[k - 1] + h / 12.0 * (-u[k - 2] + 8.0 * u[k - 1] + 5.0 * u[k]);
  return result;
}

torch::Tensor hermite_interpolate(const torch::Tensor& s, const torch::Tensor& ds, double h, const torch::Tensor& x) {
  TORCH_CHECK(s.dim() == 1 && ds.sizes() == s.sizes() && s.size(0) >= 2,
              "hermite_interpolate: expected values and derivatives [M >= 2] of one size");
  const int64_t m = s.size(0);
  auto node = torch::clamp(torch::floor(x / h), 0, m - 2).to(torch::kLong);  // [N]
  auto t = x / h - node;
  auto t2 = t * t, t3 = t2 * t;
  auto s0 = s.index_select(0, node), s1 = s.index_select(0, node + 1);
  auto d0 = ds.index_select(0, node), d1 = ds.index_select(0, node + 1);
  return (2 * t3 - 3 * t2 + 1) * s0 + (t3 - 2 * t2 + t) * h * d0 + (-2 * t3 + 3 * t2) * s1 + (t3 - t2) * h * d1;
}

Dataset generate_antiderivative(const AntiderivativeOptions& options, const GenerationProgress& progress) {
  TORCH_CHECK(options.sensors() >= 2 && options.queries() >= 1, "antiderivative: expected sensors >= 2, queries >= 1");
  TORCH_CHECK(options.refine() >= 2 && options.refine() % 2 == 0, "antiderivative: refine must be even and >= 2");
  const int64_t fine = (options.sensors() - 1) * options.refine() + 1;
  const double h = 1.0 / static_cast<double>(fine - 1);
  const RbfGaussianField field(fine, RbfGaussianFieldOptions().length_scale(options.length_scale()));
  const auto sensors = torch::linspace(0, 1, options.sensors(), f64).unsqueeze(1).to(options.dtype());
  const auto grid = torch::linspace(0, 1, options.queries(), f64);
  const auto grid_coords = grid.unsqueeze(1).to(options.dtype());

  auto make = [&](NoState&, int64_t index) {
    auto generator = sample_generator(options.seed(), index);
    auto u = field.sample(generator);  // [fine]
    auto s = cumulative_integral(u, h);
    auto x = options.random_queries() ? torch::rand({options.queries()}, generator, f64) : grid;
    Sample sample;
    sample.fields = u.slice(0, 0, fine, options.refine()).unsqueeze(1).to(options.dtype());  // [sensors, 1]
    sample.field_coords = sensors;
    sample.coords = options.random_queries() ? x.unsqueeze(1).to(options.dtype()) : grid_coords;
    sample.targets = hermite_interpolate(s, u, h, x).unsqueeze(1).to(options.dtype());  // [queries, 1]
    return sample;
  };
  Dataset data;
  data.samples = generate_samples(options.samples(), [] { return NoState{}; }, make, progress);
  if (!options.random_queries()) data.grid_shape = {options.queries()};
  data.coordinate_names = {"x"};
  data.field_names = {"u"};
  data.target_names = {"s"};
  data.source = "antiderivative";
  return data;
}

// --- Darcy ----------------------------------------------------------------------------------------------------

Dataset generate_darcy(const DarcyOptions& options, const GenerationProgress& progress) {
  const int64_t n = options.solve_resolution(), m = options.output_resolution();
  TORCH_CHECK(m >= 2 && n >= m && (n - 1) % (m - 1) == 0, "darcy: the solve resolution minus 1 (", n - 1,
              ") must be a multiple of the output resolution minus 1 (", m - 1, ")");
  TORCH_CHECK(options.low() > 0 && options.high() > 0, "darcy: the coefficient values must be positive");
  if (!darcy_solver_available())
    throw std::runtime_error("darcy: this physis build lacks Eigen, which the Darcy solver needs; install Eigen 3.3+ "
                             "and reconfigure with -DPHYSIS_EIGEN=ON");
  const int64_t stride = (n - 1) / (m - 1);
  const FnoGaussianField field(n, FnoGaussianFieldOptions().alpha(options.alpha()).tau(options.tau()));
  const auto source = torch::ones({n, n}, f64);
  const auto coords = grid_coordinates({m, m}, {0, 0}, {1, 1}).to(options.dtype());
  auto make_solver = [&] { return DarcySolver(n, {}, DarcySolverOptions().method(options.solver())); };

  auto make = [&](DarcySolver& solver, int64_t index) {
    auto generator = sample_generator(options.seed(), index);
    auto a = torch::where(field.sample(generator) >= 0, options.high(), options.low());  // [n, n]
    auto u = solver.solve(a, source);
    Sample sample;
    sample.coords = coords;
    sample.fields = subsample(a, stride).to(options.dtype());
    sample.targets = subsample(u, stride).to(options.dtype());
    return sample;
  };
  Dataset data;
  data.samples = generate_samples(options.samples(), make_solver, make, progress);
  data.grid_shape = {m, m};
  data.coordinate_names = {"x", "y"};
  data.field_names = {"a"};
  data.target_names = {"u"};
  data.source = "darcy";
  return data;
}

// --- Darcy on several geometries ------------------------------------------------------------------------------

const std::vector<std::string>& darcy_geometry_names() {
  static const std::vector<std::string> names = {"square", "circle", "triangle", "cross", "lshape", "frame"};
  return names;
}

DarcyGeometry parse_darcy_geometry(const std::string& name) {
  const auto& names = darcy_geometry_names();
  auto found = std::find(names.begin(), names.end(), name);
  if (found == names.end())
    throw std::invalid_argument("unknown geometry '" + name + "' (expected " + join_or(names) + ")");
  return static_cast<DarcyGeometry>(found - names.begin());
}

namespace {

// The geometries on [0, 1]^2: the square itself, the inscribed disc, the triangle (0,0), (1,0), (1/2,1), the
// square with a centred plus-shaped hole (two 0.6 x 0.2 bars), the L-shape (the square less its upper right
// quarter) and the frame (the square less a centred 0.4 x 0.4 square).
geometry::GeometryPtr darcy_geometry(DarcyGeometry g) {
  using namespace geometry;
  auto unit = std::make_shared<Box>(std::vector<double>{0, 0}, std::vector<double>{1, 1});
  switch (g) {
    case DarcyGeometry::square: return unit;
    case DarcyGeometry::circle: return std::make_shared<Ball>(std::vector<double>{0.5, 0.5}, 0.5);
    case DarcyGeometry::triangle: return std::make_shared<Polygon>(std::vector<Point2>{{0, 0}, {1, 0}, {0.5, 1}});
    case DarcyGeometry::cross: {
      auto bar_x = std::make_shared<Box>(std::vector<double>{0.2, 0.4}, std::vector<double>{0.8, 0.6});
      auto bar_y = std::make_shared<Box>(std::vector<double>{0.4, 0.2}, std::vector<double>{0.6, 0.8});
      return csg_difference(unit, csg_union(bar_x, bar_y));
    }
    case DarcyGeometry::lshape:
      return std::make_shared<Polygon>(std::vector<Point2>{{0, 0}, {1, 0}, {1, 0.5}, {0.5, 0.5}, {0.5, 1}, {0, 1}});
    case DarcyGeometry::frame:
      return csg_difference(unit, std::make_shared<Box>(std::vector<double>{0.3, 0.3}, std::vector<double>{0.7, 0.7}));
  }
  throw std::invalid_argument("unknown Darcy geometry");
}

}  // namespace

torch::Tensor darcy_geometry_mask(DarcyGeometry geometry, int64_t n) {
  auto points = grid_coordinates({n, n}, {0, 0}, {1, 1}).to(torch::kFloat64);
  return darcy_geometry(geometry)->inside(points).reshape({n, n}).to(torch::kFloat32);
}

torch::Tensor darcy_geometry_distance(DarcyGeometry geometry, int64_t n) {
  auto points = grid_coordinates({n, n}, {0, 0}, {1, 1}).to(torch::kFloat64);
  auto phi = darcy_geometry(geometry)->distance(points).clamp_min(0).reshape({n, n});
  return phi * darcy_geometry_mask(geometry, n).to(torch::kFloat64);
}

double darcy_geometry_area(DarcyGeometry geometry) {
  switch (geometry) {
    case DarcyGeometry::square: return 1.0;
    case DarcyGeometry::circle: return M_PI * 0.25;
    case DarcyGeometry::triangle: return 0.5;
    case DarcyGeometry::cross: return 1.0 - (2 * 0.6 * 0.2 - 0.2 * 0.2);
    case DarcyGeometry::lshape: return 0.75;
    case DarcyGeometry::frame: return 1.0 - 0.4 * 0.4;
  }
  return 0;
}

Dataset generate_darcy_multigeometry(const DarcyMultiGeometryOptions& options, const GenerationProgress& progress) {
  const int64_t n = options.resolution();
  TORCH_CHECK(n >= 3, "darcy-multigeometry: expected a resolution of at least 3 but got ", n);
  std::vector<DarcyGeometry> cycle = {DarcyGeometry::square, DarcyGeometry::circle, DarcyGeometry::triangle};
  if (options.geometry() != "all") cycle = {parse_darcy_geometry(options.geometry())};
  if (!darcy_solver_available())
    throw std::runtime_error("darcy-multigeometry: this physis build lacks Eigen, which the Darcy solver needs; "
                             "install Eigen 3.3+ and reconfigure with -DPHYSIS_EIGEN=ON");
  const int64_t kinds = static_cast<int64_t>(darcy_geometry_names().size());
  std::vector<torch::Tensor> masks, distances;
  for (int64_t g = 0; g < kinds; ++g) {
    masks.push_back(darcy_geometry_mask(static_cast<DarcyGeometry>(g), n));
    distances.push_back(darcy_geometry_distance(static_cast<DarcyGeometry>(g), n));
  }
  const FnoGaussianField field(n, FnoGaussianFieldOptions().alpha(options.alpha()).tau(options.tau()));
  const double scale = options.log_std() / field.pointwise_std();
  const auto source = torch::ones({n, n}, f64);
  const auto coords = grid_coordinates({n, n}, {0, 0}, {1, 1}).to(options.dtype());
  using Solvers = std::vector<std::optional<DarcySolver>>;  // one per geometry, made on first use

  auto make = [&](Solvers& solvers, int64_t index) {
    const auto g = static_cast<std::size_t>(cycle[static_cast<std::size_t>(index) % cycle.size()]);
    if (!solvers[g]) solvers[g].emplace(n, masks[g], DarcySolverOptions().method(options.solver()));
    auto generator = sample_generator(options.seed(), index);
    auto log_a = scale * field.sample(generator);  // [n, n]
    auto u = solvers[g]->solve(torch::exp(log_a), source);
    const auto& mask = masks[g];
    Sample sample;
    sample.coords = coords;
    sample.fields = torch::stack({log_a * mask, mask.to(torch::kFloat64), distances[g]}, -1)
                        .reshape({-1, 3})
                        .to(options.dtype());
    sample.targets = u.reshape({-1, 1}).to(options.dtype());
    sample.mask = mask.reshape({-1}).to(options.dtype());
    sample.params = torch::zeros({kinds}, options.dtype());
    sample.params[static_cast<int64_t>(g)] = 1;
    return sample;
  };
  auto make_solvers = [&] { return Solvers(static_cast<std::size_t>(kinds)); };
  Dataset data;
  data.samples = generate_samples(options.samples(), make_solvers, make, progress);
  data.grid_shape = {n, n};
  data.coordinate_names = {"x", "y"};
  data.field_names = {"log_a", "mask", "distance"};
  data.target_names = {"u"};
  data.param_names = darcy_geometry_names();
  data.source = "darcy-multigeometry";
  return data;
}

}  // namespace physis::ops
