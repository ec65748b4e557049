// Data generators: the integration ingredients against closed forms, Gaussian-field statistics, determinism for a
// seed (any thread count, any sample count), and the layout of each generated dataset.
#include <catch2/catch.hpp>

#include "operators/darcy.h"
#include "operators/datagen.h"
#include "operators/fisher.h"
#include "operators/dataset_io.h"
#include "operators/grf.h"
#include "tests/scratch.h"

#include <ATen/Parallel.h>
#include <algorithm>
#include <cmath>
#include <filesystem>

using namespace physis::ops;

namespace {

const auto f64 = torch::TensorOptions().dtype(torch::kFloat64);

bool identical(const Dataset& a, const Dataset& b) {
  if (a.size() != b.size()) return false;
  for (int64_t i = 0; i < a.size(); ++i) {
    const Sample &x = a.samples[i], &y = b.samples[i];
    if (!torch::equal(x.coords, y.coords) || !torch::equal(x.targets, y.targets) || !torch::equal(x.fields, y.fields))
      return false;
  }
  return true;
}

// Runs `make` at 1 and at 2 intra-op threads and restores the thread count.
template <class Make>
std::pair<Dataset, Dataset> at_one_and_two_threads(Make make) {
  const int threads = at::get_num_threads();
  at::set_num_threads(1);
  auto one = make();
  at::set_num_threads(2);
  auto two = make();
  REQUIRE(at::get_num_threads() == 2);  // the generators restore the caller's thread count
  at::set_num_threads(threads);
  return {one, two};
}

}  // namespace

TEST_CASE("cumulative integral and Hermite interpolation match a closed-form antiderivative", "[datagen]") {
  // u = cos(3x) + x^2, s = sin(3x)/3 + x^3/3.
  auto exact = [](const torch::Tensor& x) { return torch::sin(3 * x) / 3 + x.pow(3) / 3; };
  for (int64_t m : {101, 100}) {  // odd and even node counts (the last odd node takes the one-sided rule)
    const double h = 1.0 / static_cast<double>(m - 1);
    auto x = torch::arange(m, f64) * h;
    auto u = torch::cos(3 * x) + x.square();
    auto s = cumulative_integral(u, h);
    REQUIRE(s[0].item<double>() == 0.0);
    REQUIRE((s - exact(x)).abs().max().item<double>() < 5e-8);  // O(h^4): 1e-8 at h = 0.01
    auto queries = torch::rand({200}, torch::Generator(at::detail::createCPUGenerator(5)), f64);
    REQUIRE((hermite_interpolate(s, u, h, queries) - exact(queries)).abs().max().item<double>() < 5e-8);
    // Negative control: the trapezoid rule is only second order and fails this tolerance.
    auto steps = (u.slice(0, 1) + u.slice(0, 0, -1)) * h / 2;
    auto trapezoid = torch::cat({torch::zeros({1}, f64), torch::cumsum(steps, 0)});
    REQUIRE((trapezoid - exact(x)).abs().max().item<double>() > 1e-6);
  }
}

TEST_CASE("the RBF Gaussian field has the kernel as its covariance", "[datagen]") {
  RbfGaussianField field(101);  // h = 0.01
  const int64_t draws = 2000;
  std::vector<torch::Tensor> samples;
  for (int64_t i = 0; i < draws; ++i) {
    auto generator = sample_generator(11, i);
    samples.push_back(field.sample(generator));
  }
  auto u = torch::stack(samples);  // [draws, 101]
  REQUIRE(u.mean().abs().item<double>() < 0.05);
  for (int64_t lag : {0, 10, 20, 40}) {
    // Averaged over every pair of points `lag` apart.
    const double covariance = (u.slice(1, 0, 101 - lag) * u.slice(1, lag)).mean().item<double>();
    const double expected = field.kernel(0.01 * static_cast<double>(lag));
    INFO("lag " << 0.01 * static_cast<double>(lag) << ": sample covariance " << covariance << ", kernel " << expected);
    REQUIRE(std::abs(covariance - expected) < 0.08);
  }
  // A field with half the length scale would be caught: its covariance at lag 0.2 is exp(-2) = 0.14, not 0.61.
  REQUIRE(std::abs(field.kernel(0.2) - std::exp(-2.0)) > 0.3);
}

TEST_CASE("the FNO Gaussian field has zero mean and the predicted variance", "[datagen]") {
  const int64_t s = 32;
  FnoGaussianField field(s);
  // Independent derivation: variance = 2 sigma^2 sum over k != 0 of (4 pi^2 |k|^2 + tau^2)^-alpha, sigma = tau.
  double sum = 0;
  for (int64_t kx = -s / 2; kx < s / 2; ++kx)
    for (int64_t ky = -s / 2; ky < s / 2; ++ky)
      if (kx != 0 || ky != 0) sum += std::pow(4 * M_PI * M_PI * static_cast<double>(kx * kx + ky * ky) + 9.0, -2.0);
  REQUIRE(field.pointwise_std() == Approx(std::sqrt(2 * 9.0 * sum)).epsilon(1e-12));
  std::vector<torch::Tensor> samples;
  for (int64_t i = 0; i < 400; ++i) {
    auto generator = sample_generator(2, i);
    auto g = field.sample(generator);
    REQUIRE(g.sizes() == torch::IntArrayRef({s, s}));
    REQUIRE(std::abs(g.mean().item<double>()) < 1e-12);  // no mean mode
    samples.push_back(g);
  }
  const double variance = torch::stack(samples).square().mean().item<double>();
  REQUIRE(variance == Approx(field.pointwise_std() * field.pointwise_std()).epsilon(0.1));
}

TEST_CASE("antiderivative dataset: layout, exact targets, determinism", "[datagen]") {
  auto options = AntiderivativeOptions().samples(6).seed(4).dtype(torch::kFloat64);
  auto data = generate_antiderivative(options);
  REQUIRE(data.size() == 6);
  REQUIRE_NOTHROW(data.validate());
  REQUIRE(data.aligned());
  REQUIRE(data.grid_shape == std::vector<int64_t>{100});
  const Sample& first = data.samples[0];
  REQUIRE(first.fields.sizes() == torch::IntArrayRef({100, 1}));
  REQUIRE(first.field_coords.sizes() == torch::IntArrayRef({100, 1}));
  REQUIRE(first.coords.sizes() == torch::IntArrayRef({100, 1}));
  REQUIRE(first.targets[0].item<double>() == 0.0);
  // The targets on the sensor grid agree with Simpson's rule on the (coarser) sensor values to its accuracy.
  auto coarse = cumulative_integral(first.fields.squeeze(1), 1.0 / 99);
  REQUIRE(torch::allclose(coarse, first.targets.squeeze(1), 0, 1e-4));

  auto [one, two] = at_one_and_two_threads([&] { return generate_antiderivative(options); });
  REQUIRE(identical(one, data));
  REQUIRE(identical(one, two));
  REQUIRE_FALSE(identical(data, generate_antiderivative(AntiderivativeOptions(options).seed(5))));
  // Sample i depends on the seed and i only.
  auto longer = generate_antiderivative(AntiderivativeOptions(options).samples(9));
  REQUIRE(identical(data, longer.subset({0, 1, 2, 3, 4, 5})));

  auto paper = generate_antiderivative(AntiderivativeOptions().samples(3).queries(1).random_queries(true));
  REQUIRE(paper.samples[0].coords.sizes() == torch::IntArrayRef({1, 1}));
  REQUIRE(paper.grid_shape.empty());
  REQUIRE_FALSE(paper.aligned());
}

TEST_CASE("progress is reported in order and an exception from it stops the generation", "[datagen]") {
  const int threads = at::get_num_threads();
  at::set_num_threads(2);
  std::vector<int64_t> reports;
  generate_antiderivative(AntiderivativeOptions().samples(50), [&](int64_t done, int64_t total) {
    REQUIRE(total == 50);
    reports.push_back(done);
  });
  REQUIRE(reports.front() == 0);
  REQUIRE(reports.back() == 50);
  REQUIRE(std::is_sorted(reports.begin(), reports.end()));
  struct Cancelled {};
  int64_t last = 0;
  auto cancel = [&](int64_t done, int64_t) {
    last = done;
    if (done >= 5) throw Cancelled{};
  };
  REQUIRE_THROWS_AS(generate_antiderivative(AntiderivativeOptions().samples(100000), cancel), Cancelled);
  REQUIRE(last >= 5);
  REQUIRE(at::get_num_threads() == 2);
  at::set_num_threads(threads);
}

TEST_CASE("darcy dataset: layout, subsampling, determinism", "[datagen]") {
  if (!darcy_solver_available()) {
    WARN("SKIPPED: this build lacks Eigen");
    REQUIRE_THROWS_WITH(generate_darcy(DarcyOptions().samples(1)), Catch::Contains("lacks Eigen"));
    return;
  }
  auto options = DarcyOptions().samples(3).solve_resolution(33).output_resolution(17).seed(1);
  auto data = generate_darcy(options);
  REQUIRE_NOTHROW(data.validate());
  REQUIRE(data.grid_shape == std::vector<int64_t>{17, 17});
  const Sample& s = data.samples[0];
  REQUIRE(s.coords.sizes() == torch::IntArrayRef({17 * 17, 2}));
  REQUIRE(torch::equal(s.coords, grid_coordinates({17, 17}, {0, 0}, {1, 1})));
  REQUIRE(((s.fields == 3) | (s.fields == 12)).all().item<bool>());
  REQUIRE((s.targets >= 0).all().item<bool>());
  REQUIRE(s.targets.max().item<double>() > 0);
  // Every second vertex of the 33 x 33 solve, rows y and x fastest.
  auto full = generate_darcy(DarcyOptions(options).output_resolution(33));
  auto every_second = full.samples[0].targets.reshape({33, 33}).slice(0, 0, 33, 2).slice(1, 0, 33, 2);
  REQUIRE(torch::equal(every_second.reshape({-1, 1}), s.targets));

  auto [one, two] = at_one_and_two_threads([&] { return generate_darcy(options); });
  REQUIRE(identical(one, data));
  REQUIRE(identical(one, two));
  REQUIRE_FALSE(identical(data, generate_darcy(DarcyOptions(options).seed(2))));
  REQUIRE_THROWS_WITH(generate_darcy(DarcyOptions(options).output_resolution(16)), Catch::Contains("multiple"));
}

TEST_CASE("geometry masks have the expected areas", "[datagen]") {
  const int64_t n = 100;
  for (const auto& name : darcy_geometry_names()) {
    auto geometry = parse_darcy_geometry(name);
    auto mask = darcy_geometry_mask(geometry, n);
    REQUIRE(mask.sizes() == torch::IntArrayRef({n, n}));
    // The fraction of vertices inside approximates the area to O(h).
    INFO(name << ": vertex fraction " << mask.mean().item<double>() << ", area " << darcy_geometry_area(geometry));
    REQUIRE(mask.mean().item<double>() == Approx(darcy_geometry_area(geometry)).margin(0.03));
  }
  REQUIRE(darcy_geometry_area(DarcyGeometry::cross) == Approx(0.8));
  // The hole of the cross: the centre is outside, a corner inside.
  auto cross = darcy_geometry_mask(DarcyGeometry::cross, 101);
  REQUIRE(cross[50][50].item<float>() == 0.0f);
  REQUIRE(cross[5][5].item<float>() == 1.0f);
  // The L-shape lacks its upper right quarter; the frame its centre, not its sides.
  auto lshape = darcy_geometry_mask(DarcyGeometry::lshape, 101);
  REQUIRE(lshape[90][90].item<float>() == 0.0f);
  REQUIRE(lshape[90][10].item<float>() == 1.0f);
  REQUIRE(lshape[10][90].item<float>() == 1.0f);
  auto frame = darcy_geometry_mask(DarcyGeometry::frame, 101);
  REQUIRE(frame[50][50].item<float>() == 0.0f);
  REQUIRE(frame[50][10].item<float>() == 1.0f);
  REQUIRE(frame[10][50].item<float>() == 1.0f);
  // The distance factor vanishes on the re-entrant corner's walls and is positive inside.
  auto phi = darcy_geometry_distance(DarcyGeometry::lshape, 101);
  REQUIRE(phi[50][75].item<double>() == Approx(0).margin(1e-12));
  REQUIRE(phi[25][25].item<double>() > 0.1);
  REQUIRE_THROWS_WITH(parse_darcy_geometry("hexagon"), Catch::Contains("cross, lshape or frame"));
}

TEST_CASE("multi-geometry Darcy dataset: masks, one-hot ids, zero outside, determinism", "[datagen]") {
  if (!darcy_solver_available()) {
    WARN("SKIPPED: this build lacks Eigen");
    return;
  }
  const int64_t n = 32;
  auto options = DarcyMultiGeometryOptions().samples(4).resolution(n).seed(3);
  auto data = generate_darcy_multigeometry(options);
  REQUIRE_NOTHROW(data.validate());
  REQUIRE(data.field_names == std::vector<std::string>{"log_a", "mask", "distance"});
  REQUIRE(data.param_names == darcy_geometry_names());
  for (int64_t i = 0; i < data.size(); ++i) {
    const Sample& s = data.samples[i];
    REQUIRE(s.params.argmax().item<int64_t>() == i % 3);  // square, circle, triangle in turn
    REQUIRE(s.params.sum().item<float>() == 1.0f);
    auto expected_mask = darcy_geometry_mask(static_cast<DarcyGeometry>(i % 3), n).reshape({-1});
    REQUIRE(torch::equal(s.mask, expected_mask));
    REQUIRE(torch::equal(s.fields.select(1, 1), s.mask));
    // The distance channel: zero outside and on the domain's edge, positive inside.
    auto distance = s.fields.select(1, 2);
    REQUIRE((distance * (1 - s.mask)).abs().max().item<float>() == 0.0f);
    REQUIRE(distance.reshape({n, n})[n / 2][n / 2].item<float>() > 0.05f);
    REQUIRE(std::abs(distance.reshape({n, n})[0][n / 2].item<float>()) < 1e-6f);
    REQUIRE((s.targets.squeeze(1) * (1 - s.mask)).abs().max().item<float>() == 0.0f);
    REQUIRE(s.targets.max().item<float>() > 0.0f);
  }
  auto cross = generate_darcy_multigeometry(DarcyMultiGeometryOptions(options).samples(1).geometry("cross"));
  REQUIRE(cross.samples[0].params[3].item<float>() == 1.0f);
  auto [one, two] = at_one_and_two_threads([&] { return generate_darcy_multigeometry(options); });
  REQUIRE(identical(one, data));
  REQUIRE(identical(one, two));
  REQUIRE_FALSE(identical(data, generate_darcy_multigeometry(DarcyMultiGeometryOptions(options).seed(4))));
}

TEST_CASE("generated datasets round trip through write_dataset and read_dataset", "[datagen]") {
  if (!darcy_solver_available()) {
    WARN("SKIPPED: this build lacks Eigen");
    return;
  }
  const auto path = physis::test::scratch("datagen.pt");
  auto data = generate_darcy_multigeometry(DarcyMultiGeometryOptions().samples(3).resolution(12));
  write_dataset(data, path);
  auto back = read_dataset(path);
  std::filesystem::remove(path);
  REQUIRE(identical(back, data));
  REQUIRE(back.grid_shape == data.grid_shape);
  REQUIRE(back.field_names == data.field_names);
  REQUIRE(back.param_names == data.param_names);
  for (int64_t i = 0; i < data.size(); ++i) {
    REQUIRE(torch::equal(back.samples[i].mask, data.samples[i].mask));
    REQUIRE(torch::equal(back.samples[i].params, data.samples[i].params));
  }
}

TEST_CASE("Fisher solver: a uniform state follows each reaction's exact solution", "[datagen][fisher]") {
  const double u0 = 0.2, a = 2.0;
  const auto options = FisherSolverOptions().times(6).steps(500);
  auto t = torch::linspace(0, 1, 6, torch::kFloat64).unsqueeze(1);
  auto growth = torch::exp(a * t);
  auto logistic = solve_fisher(torch::full({8}, u0, torch::kFloat64), {a, 0}, options);
  auto cubic = solve_fisher(torch::full({8}, u0, torch::kFloat64), {0, a}, options);
  auto logistic_exact = u0 * growth / (1 - u0 + u0 * growth);
  auto cubic_exact = u0 * growth / torch::sqrt(1 - u0 * u0 + u0 * u0 * growth * growth);
  REQUIRE((logistic - logistic_exact).abs().max().item<double>() < 1e-9);
  REQUIRE((cubic - cubic_exact).abs().max().item<double>() < 1e-9);
  // The two forms differ: the cubic one grows faster.
  REQUIRE((cubic - logistic).select(0, 5).min().item<double>() > 0.05);
}

TEST_CASE("Fisher solver: Fourier modes diffuse exactly and the splitting is second order", "[datagen][fisher]") {
  const int64_t n = 32;
  auto x = torch::arange(n, torch::kFloat64) / n;
  auto mode = torch::cos(2 * M_PI * 3 * x);
  const double d = 0.01;
  auto diffused = solve_fisher(mode, {0, 0}, FisherSolverOptions().diffusion(d).times(2).steps(7));
  REQUIRE((diffused[1] - std::exp(-d * std::pow(6 * M_PI, 2)) * mode).abs().max().item<double>() < 1e-13);

  auto u0 = 0.5 + 0.3 * torch::sin(2 * M_PI * x) + 0.1 * torch::cos(4 * M_PI * x);
  auto at_end = [&](int64_t steps) {
    return solve_fisher(u0, {2.0, 1.0}, FisherSolverOptions().diffusion(0.02).times(2).steps(steps))[1];
  };
  auto reference = at_end(2560);
  const double e1 = (at_end(20) - reference).abs().max().item<double>();
  const double e2 = (at_end(40) - reference).abs().max().item<double>();
  const double e3 = (at_end(80) - reference).abs().max().item<double>();
  INFO("errors " << e1 << " " << e2 << " " << e3);
  REQUIRE(e1 > 0);
  REQUIRE(e1 / e2 == Approx(4).margin(0.4));
  REQUIRE(e2 / e3 == Approx(4).margin(0.4));
  REQUIRE_THROWS_WITH(solve_fisher(u0, {1, 0}, FisherSolverOptions().times(4).steps(10)),
                      Catch::Contains("multiple of times - 1"));
}

TEST_CASE("Fisher dataset: coefficient vectors, tasks in turn, layout and determinism", "[datagen][fisher]") {
  auto options = FisherOptions().samples(6).points(16).solver(FisherSolverOptions().times(5).steps(20)).seed(2);
  auto data = generate_fisher(options);
  REQUIRE_NOTHROW(data.validate());
  REQUIRE(data.aligned());
  REQUIRE(data.param_names == std::vector<std::string>{"c_logistic", "c_cubic"});
  REQUIRE(data.grid_shape == std::vector<int64_t>{16, 5});
  for (int64_t i = 0; i < data.size(); ++i) {
    const Sample& s = data.samples[i];
    REQUIRE(s.fields.sizes() == torch::IntArrayRef({16, 1}));
    REQUIRE(s.coords.sizes() == torch::IntArrayRef({80, 2}));
    REQUIRE(s.fields.min().item<float>() > 0.0f);
    REQUIRE(s.fields.max().item<float>() < 1.0f);
    // Task i % 2: one coefficient in [1, 3], the other zero.
    const auto rate = s.params[i % 2].item<float>();
    REQUIRE(rate >= 1.0f);
    REQUIRE(rate <= 3.0f);
    REQUIRE(s.params[1 - i % 2].item<float>() == 0.0f);
    // The first time row is u0, on the sensors' x; later rows grow toward 1.
    REQUIRE(torch::equal(s.targets.slice(0, 0, 16), s.fields));
    REQUIRE(torch::equal(s.coords.slice(0, 0, 16), s.field_coords));
    REQUIRE(s.targets.slice(0, 64).mean().item<float>() > s.fields.mean().item<float>());
  }
  auto [one, two] = at_one_and_two_threads([&] { return generate_fisher(options); });
  REQUIRE(identical(one, data));
  REQUIRE(identical(one, two));
  auto cubic = generate_fisher(FisherOptions(options).reaction("cubic"));
  for (const auto& s : cubic.samples) REQUIRE(s.params[0].item<float>() == 0.0f);
  REQUIRE_THROWS_WITH(generate_fisher(FisherOptions(options).reaction("quadratic")),
                      Catch::Contains("logistic, cubic or all"));
}
