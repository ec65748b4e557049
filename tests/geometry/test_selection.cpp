// Boundary selection by piece name and by predicate, and the small comparison parser.
#include <catch2/catch.hpp>

#include "geometry/box.h"
#include "geometry/error.h"
#include "geometry/selection.h"

using namespace physis::geometry;

TEST_CASE("select boundary points by piece name and predicate", "[geometry][selection]") {
  Box square({0, 0}, {1, 1});
  Sampler sampler(SamplerOptions().seed(1), torch::kFloat64);
  auto b = square.sample_boundary(2000, sampler);
  auto left = select_boundary(b, {{"x_min"}, nullptr});
  REQUIRE(torch::equal(left, b.points.select(1, 0) == 0));
  auto predicate = parse_predicate("x == 0", square.coordinate_names());
  REQUIRE(torch::equal(select_boundary(b, {{}, predicate}), left));
  auto upper_left = select_boundary(b, {{"x_min"}, parse_predicate("y > 0.5", square.coordinate_names())});
  REQUIRE(upper_left.sum().item<int64_t>() > 0);
  REQUIRE((b.points.index({upper_left}).select(1, 1) > 0.5).all().item<bool>());
  REQUIRE_THROWS_WITH(select_boundary(b, {{"left"}, nullptr}), Catch::Contains("x_min"));
}

TEST_CASE("sample_boundary_where draws only from the selection", "[geometry][selection]") {
  Box square({0, 0}, {2, 1});
  Sampler sampler(SamplerOptions().seed(2), torch::kFloat64);
  auto top_right = parse_predicate("y == 1 && x >= 1.5", square.coordinate_names());
  auto b = sample_boundary_where(square, 300, sampler, {{}, top_right});
  REQUIRE(b.size() == 300);
  REQUIRE(top_right(b.points).all().item<bool>());
  REQUIRE(b.points.select(1, 0).min().item<double>() < 1.52);  // spread over the whole selected part
  REQUIRE_THROWS_WITH(sample_boundary_where(square, 10, sampler, {{}, parse_predicate("x > 5", {"x", "y"})}),
                      Catch::Contains("empty"));
}

TEST_CASE("predicate parser: tolerance semantics and clear errors", "[geometry][selection][errors]") {
  auto x = torch::tensor({{0.0, 0.5}, {1e-8, 0.5 + 1e-8}, {0.1, 0.4}}, torch::kFloat64);
  std::vector<std::string> names{"x", "y"};
  auto mask = [&](const std::string& text) { return parse_predicate(text, names, 1e-6)(x); };
  REQUIRE(torch::equal(mask("x == 0"), torch::tensor({true, true, false})));
  REQUIRE(torch::equal(mask("y > 0.5"), torch::tensor({false, false, false})));
  REQUIRE(torch::equal(mask("y >= 0.5"), torch::tensor({true, true, false})));
  REQUIRE(torch::equal(mask("x != 0 && y < 0.45"), torch::tensor({false, false, true})));
  REQUIRE_THROWS_WITH(parse_predicate("z == 0", names), Catch::Contains("unknown coordinate 'z'"));
  REQUIRE_THROWS_WITH(parse_predicate("x = 0", names), Catch::Contains("coordinate OP number"));
  REQUIRE_THROWS_WITH(parse_predicate("x == zero", names), Catch::Contains("expected a number"));
}
