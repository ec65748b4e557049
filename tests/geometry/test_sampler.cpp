// Samplers: range, dtype, reproducibility, stratification, and lower discrepancy for Sobol/Halton.
#include <catch2/catch.hpp>

#include "geometry/error.h"
#include "geometry/sampler.h"

using namespace physis::geometry;

namespace {

// Squared L2-star discrepancy by Warnock's formula, all pairs at once. u [n, d] in [0, 1)^d.
double l2_star_discrepancy(const torch::Tensor& u) {
  const auto n = static_cast<double>(u.size(0));
  const auto d = static_cast<double>(u.size(1));
  auto x = u.to(torch::kFloat64);
  auto single = (1 - x.pow(2)).prod(1).sum().item<double>();                                   // sum_i prod_k
  auto pairs = (1 - torch::maximum(x.unsqueeze(0), x.unsqueeze(1))).prod(2).sum().item<double>();  // sum_ij prod_k
  return std::pow(3.0, -d) - std::pow(2.0, 1 - d) / n * single + pairs / (n * n);
}

Sampler make(SamplerKind kind, uint64_t seed = 0, torch::Dtype dtype = torch::kFloat64) {
  return Sampler(SamplerOptions().kind(kind).seed(seed), torch::TensorOptions().dtype(dtype));
}

}  // namespace

TEST_CASE("every sampler gives [n, d] points in the unit cube with the requested dtype", "[geometry][sampler]") {
  for (auto kind : {SamplerKind::random, SamplerKind::latin_hypercube, SamplerKind::sobol, SamplerKind::halton}) {
    auto sampler = make(kind, 1, torch::kFloat32);
    auto u = sampler.uniform(300, 5);
    REQUIRE(u.sizes() == torch::IntArrayRef({300, 5}));
    REQUIRE(u.scalar_type() == torch::kFloat32);
    REQUIRE(u.min().item<double>() >= 0);
    REQUIRE(u.max().item<double>() < 1);
    REQUIRE(u.std().item<double>() == Approx(std::sqrt(1.0 / 12)).margin(0.02));
  }
  REQUIRE(parse_sampler_kind("lhs") == SamplerKind::latin_hypercube);
  REQUIRE_THROWS_WITH(parse_sampler_kind("sobel"), Catch::Contains("use random, lhs, sobol or halton"));
}

TEST_CASE("Sobol and Halton have lower L2-star discrepancy than pseudo-random points", "[geometry][sampler]") {
  const int64_t n = 256;
  for (int64_t d : {2, 4}) {
    double random_mean = 0;
    for (uint64_t seed = 0; seed < 5; ++seed)
      random_mean += l2_star_discrepancy(make(SamplerKind::random, seed).uniform(n, d)) / 5;
    const double sobol = l2_star_discrepancy(make(SamplerKind::sobol, 3).uniform(n, d));
    const double halton = l2_star_discrepancy(make(SamplerKind::halton).uniform(n, d));
    const double lhs = l2_star_discrepancy(make(SamplerKind::latin_hypercube, 3).uniform(n, d));
    INFO("d=" << d << " random " << random_mean << " sobol " << sobol << " halton " << halton << " lhs " << lhs);
    REQUIRE(sobol < random_mean / 4);
    REQUIRE(halton < random_mean / 4);
    REQUIRE(lhs < random_mean);
  }
}

TEST_CASE("quasi-random sequences continue across calls and seeds reproduce", "[geometry][sampler]") {
  auto whole = make(SamplerKind::sobol, 2).uniform(64, 3);
  auto parts = make(SamplerKind::sobol, 2);
  auto first = parts.uniform(1, 3), rest = parts.uniform(63, 3);
  REQUIRE(torch::equal(torch::cat({first, rest}), whole));
  auto halton = make(SamplerKind::halton);
  auto h = torch::cat({halton.uniform(10, 2), halton.uniform(10, 2)});
  REQUIRE(torch::equal(h, make(SamplerKind::halton).uniform(20, 2)));
  auto van_der_corput = torch::tensor({0.5, 0.25, 0.75}, torch::kFloat64);
  REQUIRE(torch::allclose(h.slice(0, 0, 3).select(1, 0).to(torch::kFloat64), van_der_corput));
  REQUIRE(torch::equal(make(SamplerKind::random, 7).uniform(10, 2), make(SamplerKind::random, 7).uniform(10, 2)));
  REQUIRE_FALSE(torch::equal(make(SamplerKind::random, 7).uniform(10, 2), make(SamplerKind::random, 8).uniform(10, 2)));
  REQUIRE_FALSE(torch::equal(make(SamplerKind::sobol, 7).uniform(10, 2), make(SamplerKind::sobol, 8).uniform(10, 2)));
}

TEST_CASE("Latin hypercube puts one point in each stratum of every axis", "[geometry][sampler]") {
  const int64_t n = 50;
  auto u = make(SamplerKind::latin_hypercube, 4).uniform(n, 3);
  auto strata = (u * n).floor().to(torch::kLong);
  for (int64_t k = 0; k < 3; ++k)
    REQUIRE(torch::equal(std::get<0>(strata.select(1, k).sort()), torch::arange(n, torch::kLong)));
}

TEST_CASE("Sobol beyond its dimension limit asks for another sampler", "[geometry][sampler][errors]") {
  auto sampler = make(SamplerKind::sobol);
  REQUIRE_THROWS_WITH(sampler.uniform(2, 30000), Catch::Contains("use the random or halton sampler"));
}
