// Trainer: exact resume, crash-safe checkpoints, NaN detection, schedules, history.
#include "core/checkpoint.h"
#include "core/config.h"
#include "core/network.h"
#include "core/trainer.h"

#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <tuple>

using namespace physis;
namespace fs = std::filesystem;

namespace {

fs::path fresh_dir(const std::string& name) {
  auto dir = fs::temp_directory_path() / ("physis-test-" + name + "-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

// Fits sin(3x) on points drawn afresh every step, so resuming must restore the random generator too.
struct Regression {
  MLP net;
  torch::Dtype dtype;
  explicit Regression(uint64_t seed, torch::Dtype dtype = torch::kFloat64) : net(nullptr), dtype(dtype) {
    torch::manual_seed(seed);
    net = MLP(MLPOptions({1, 16, 16, 1}));
    net->to(dtype);
  }
  LossTerms operator()(int64_t) {
    auto x = torch::rand({64, 1}, dtype);
    auto fit = (net->forward(x) - torch::sin(3 * x)).square().mean();
    auto smooth = 1e-3 * net->forward(x).square().mean();
    return {{"fit", fit}, {"smooth", smooth}};
  }
};

double weights_checksum(const MLP& net) {
  double s = 0;
  for (const auto& p : net->parameters()) s += p.sum().item<double>();
  return s;
}

TrainerOptions options_for(const fs::path& dir, std::vector<PhaseOptions> phases) {
  return TrainerOptions().phases(std::move(phases)).output_dir(dir.string()).progress("none").log_every(5).checkpoint_every(1000);
}

}  // namespace

TEST_CASE("resume continues exactly where training stopped", "[trainer]") {
  const auto phases = GENERATE(
      std::vector<PhaseOptions>{PhaseOptions().optimizer("adam").steps(40).lr(1e-2).schedule("cosine")},
      std::vector<PhaseOptions>{PhaseOptions().optimizer("adamw").steps(20).lr(1e-2),
                                PhaseOptions().optimizer("lbfgs").steps(20).iterations_per_call(5)},
      std::vector<PhaseOptions>{PhaseOptions().optimizer("adamw").steps(20).lr(1e-2),
                                PhaseOptions().optimizer("lbfgs").steps(40).iterations_per_call(5).restart_every(10)});
  const int64_t split = phases.size() == 1 ? 17 : 35;  // inside the first phase / inside the L-BFGS phase
  auto dir = fresh_dir("resume");

  torch::manual_seed(123);
  Regression straight(7);
  Trainer a(straight.net.ptr(), std::ref(straight), options_for(dir / "a", phases));
  auto full = a.run();

  torch::manual_seed(123);
  Regression first(7);
  Trainer b(first.net.ptr(), std::ref(first), options_for(dir / "b", phases));
  b.run(split);
  REQUIRE(b.step() == split);
  b.save_checkpoint(dir / "b" / "checkpoint.pt");

  torch::manual_seed(999);  // a different process state: weights and generator both differ until loaded
  Regression second(8);
  Trainer c(second.net.ptr(), std::ref(second), options_for(dir / "b", phases));
  REQUIRE(c.resume());
  REQUIRE(c.step() == split);
  auto rest = c.run();

  REQUIRE(rest.steps == full.steps);
  REQUIRE(rest.loss == full.loss);  // bit-for-bit: same optimizer state, same random draws
  if (phases.back().restart_every() > 0) {
    REQUIRE(a.lbfgs_scheduled_restarts() == 3);  // at L-BFGS steps 10, 20 and 30
    REQUIRE(b.lbfgs_scheduled_restarts() + c.lbfgs_scheduled_restarts() == 3);
  }
  REQUIRE(weights_checksum(second.net) == weights_checksum(straight.net));
  fs::remove_all(dir);
}

TEST_CASE("a checkpoint resumes in another precision: the network converted, the optimizer afresh", "[trainer]") {
  auto dir = fresh_dir("convert");
  const std::vector<PhaseOptions> phases{PhaseOptions().optimizer("adam").steps(20).lr(1e-2),
                                         PhaseOptions().optimizer("lbfgs").steps(20).iterations_per_call(5)};
  // A deterministic fit on fixed points, so that L-BFGS's line search sees one function.
  auto fit = [](MLP& net) {
    return [&net](int64_t) {
      const auto p = net->parameters().front();
      const auto x = torch::linspace(0, 1, 101, p.options()).unsqueeze(1);
      return LossTerms{{"fit", (net->forward(x) - torch::sin(3 * x)).square().mean()}};
    };
  };
  Regression single(7, torch::kFloat32);
  Trainer a(single.net.ptr(), fit(single.net), options_for(dir, phases));
  a.run(20);
  a.save_checkpoint(dir / "checkpoint.pt");

  Regression twice(8, torch::kFloat64);  // other weights until loaded
  Trainer b(twice.net.ptr(), fit(twice.net), options_for(dir, phases));
  REQUIRE(b.resume());
  REQUIRE(b.step() == 20);
  const auto from = single.net->parameters(), to = twice.net->parameters();
  REQUIRE(from.size() == to.size());
  for (std::size_t i = 0; i < from.size(); ++i) {
    REQUIRE(to[i].scalar_type() == torch::kFloat64);
    REQUIRE(torch::equal(to[i], from[i].to(torch::kFloat64)));  // float32 -> float64 is exact
  }
  const double before = fit(twice.net)(0).front().second.item<double>();
  const auto rest = b.run();  // L-BFGS in float64 from the float32 weights
  REQUIRE(rest.steps == 40);
  REQUIRE(rest.loss < 0.5 * before);

  // Back to float32 from the float64 checkpoint the run just wrote: rounded to the nearest float.
  Regression again(9, torch::kFloat32);
  Trainer c(again.net.ptr(), fit(again.net), options_for(dir, phases));
  REQUIRE(c.resume());
  for (std::size_t i = 0; i < to.size(); ++i)
    REQUIRE(torch::equal(again.net->parameters()[i], to[i].to(torch::kFloat32)));
  fs::remove_all(dir);
}

TEST_CASE("phases with their own precision: parsed, grouped, and refused by a trainer that cannot convert", "[trainer]") {
  auto s = config::Section::load_string("phases:\n"
                                        "  - {optimizer: adam, steps: 20}\n"
                                        "  - {optimizer: adam, steps: 10, dtype: float32}\n"
                                        "  - {optimizer: lbfgs, steps: 30, dtype: float64}\n"
                                        "  - {optimizer: lbfgs, steps: 5}\n",
                                        "t.yaml");
  auto options = TrainerOptions::from_config(s);
  REQUIRE(options.phases()[2].dtype() == "float64");
  using Segments = std::vector<std::pair<int64_t, std::string>>;
  REQUIRE(options.precision_segments("float32") == Segments{{30, "float32"}, {60, "float64"}, {65, "float32"}});
  REQUIRE(options.precision_segments("float64") == Segments{{20, "float64"}, {30, "float32"}, {65, "float64"}});
  REQUIRE_THROWS_WITH(TrainerOptions::from_config(config::Section::load_string(
                          "phases:\n  - {optimizer: adam, dtype: double}\n", "t.yaml")),
                      Catch::Contains("t.yaml:2:") && Catch::Contains("expected float32 or float64"));

  // The trainer trains only phases in its model's precision: the caller converts between them.
  auto dir = fresh_dir("phase-dtype");
  Regression fit(7, torch::kFloat32);
  Trainer trainer(fit.net.ptr(), std::ref(fit),
                  options_for(dir, {PhaseOptions().steps(5), PhaseOptions().steps(5).dtype("float64")}));
  REQUIRE(trainer.run(5).steps == 5);
  REQUIRE_THROWS_WITH(trainer.run(), Catch::Contains("training phase 2 asks for float64 but the model is float32"));
  trainer.save_checkpoint(dir / "checkpoint.pt");
  REQUIRE(Trainer::checkpoint_step(dir / "checkpoint.pt") == 5);
  fs::remove_all(dir);
}

TEST_CASE("a write that dies half-way leaves the previous checkpoint valid", "[trainer]") {
  auto dir = fresh_dir("atomic");
  Regression r(1);
  Trainer t(r.net.ptr(), std::ref(r), options_for(dir, {PhaseOptions().steps(5)}));
  t.run();
  const auto path = dir / "checkpoint.pt";
  REQUIRE(fs::exists(path));
  const auto size_before = fs::file_size(path);

  // A writer that produces half a file and then fails, as a process killed mid-write would.
  REQUIRE_THROWS(atomic_write(path, [](std::ostream& out) {
    out << std::string(1 << 20, 'x');
    throw std::runtime_error("killed");
  }));
  REQUIRE(fs::file_size(path) == size_before);
  for (const auto& entry : fs::directory_iterator(dir))  // no temporary file left behind
    REQUIRE(entry.path().filename().string().find(".tmp.") == std::string::npos);

  Regression other(2);
  Trainer u(other.net.ptr(), std::ref(other), options_for(dir, {PhaseOptions().steps(5)}));
  REQUIRE_NOTHROW(u.load_checkpoint(path));
  REQUIRE(u.step() == 5);
  REQUIRE(weights_checksum(other.net) == weights_checksum(r.net));

  std::ofstream(dir / "garbage.pt") << "not a checkpoint";
  REQUIRE_THROWS_WITH(u.load_checkpoint(dir / "garbage.pt"), Catch::Contains("not a readable physis checkpoint"));
  fs::remove_all(dir);
}

TEST_CASE("NaN in training stops with a clear message and keeps the last good checkpoint", "[trainer]") {
  auto dir = fresh_dir("nan");
  Regression r(3);
  auto loss = [&](int64_t step) {
    auto terms = r(step);
    if (step >= 12) terms.push_back({"poison", torch::log(torch::zeros({1}, torch::kFloat64) - 1).sum()});
    return terms;
  };
  auto opts = options_for(dir, {PhaseOptions().steps(50)}).checkpoint_every(5);
  Trainer t(r.net.ptr(), loss, opts);
  REQUIRE_THROWS_AS(t.run(), TrainingDiverged);
  try {
    Trainer t2(r.net.ptr(), loss, opts);
    t2.resume();
    t2.run();
  } catch (const TrainingDiverged& e) {
    REQUIRE_THAT(e.what(), Catch::Contains("at step 12") && Catch::Contains("term 'poison'") &&
                               Catch::Contains("checkpoint.pt") && Catch::Contains("lower learning rate"));
  }
  Regression check(4);
  Trainer u(check.net.ptr(), std::ref(check), opts);
  u.load_checkpoint(dir / "checkpoint.pt");
  REQUIRE(u.step() == 10);
  for (const auto& p : check.net->parameters()) REQUIRE(torch::isfinite(p).all().item<bool>());
  fs::remove_all(dir);
}

TEST_CASE("learning-rate defaults follow the optimizer", "[trainer]") {
  REQUIRE(PhaseOptions().optimizer("adam").lr_at(0) == 1e-3);
  REQUIRE(PhaseOptions().optimizer("lbfgs").lr_at(0) == 1.0);
  REQUIRE(PhaseOptions().optimizer("lbfgs").lr(0.5).lr_at(0) == 0.5);
}

TEST_CASE("learning-rate schedules", "[trainer]") {
  auto p = PhaseOptions().lr(1.0).steps(100);
  REQUIRE(p.schedule("constant").lr_at(50) == 1.0);
  REQUIRE(p.schedule("step").gamma(0.5).step_size(10).lr_at(25) == Approx(0.25));
  REQUIRE(p.schedule("exponential").gamma(0.1).decay_steps(50).lr_at(100) == Approx(0.01));
  REQUIRE(p.schedule("cosine").min_lr(0.0).lr_at(50) == Approx(0.5));
  REQUIRE(p.schedule("linear").lr_at(75) == Approx(0.25));
  auto one = p.schedule("onecycle").warmup_fraction(0.3);
  REQUIRE(one.lr_at(0) == Approx(1.0 / 25));
  REQUIRE(one.lr_at(30) == Approx(1.0));
  REQUIRE(one.lr_at(100) == Approx(0.0).margin(1e-12));
  REQUIRE_THROWS_WITH(p.schedule("warp").lr_at(1), Catch::Contains("unknown learning-rate schedule 'warp'"));
}

TEST_CASE("history CSV has a row per log interval, metrics, and is truncated on resume", "[trainer]") {
  auto dir = fresh_dir("history");
  Regression r(5);
  auto opts = options_for(dir, {PhaseOptions().steps(20)}).log_every(5).eval_every(10).checkpoint_every(10);
  Trainer t(r.net.ptr(), std::ref(r), opts);
  t.set_evaluator([] { return Metrics{{"l2re_u", 0.5}}; });
  t.run();
  std::ifstream in(dir / "history.csv");
  std::string header;
  std::getline(in, header);
  REQUIRE(header == "step,phase,lr,loss,loss_fit,loss_smooth,l2re_u,elapsed_s");
  std::vector<std::string> rows;
  for (std::string line; std::getline(in, line);) rows.push_back(line);
  REQUIRE(rows.size() == 4);  // steps 5, 10, 15, 20
  REQUIRE(rows[1].rfind("10,", 0) == 0);
  in.close();

  Regression again(5);
  Trainer u(again.net.ptr(), std::ref(again), opts);
  u.set_evaluator([] { return Metrics{{"l2re_u", 0.5}}; });
  u.load_checkpoint(dir / "checkpoint.pt");  // the final checkpoint: step 20, nothing to drop
  REQUIRE(u.step() == 20);
  fs::remove_all(dir);
}

TEST_CASE("an L-BFGS run whose line search stalls restarts from steepest descent (restart_on_stall)", "[trainer]") {
  // A float32 fit on fixed points, long enough for the strong-Wolfe line search to run out of precision.
  auto fit = [](MLP& net) {
    return [&net](int64_t) {
      const auto x = torch::linspace(0, 1, 101, torch::kFloat32).unsqueeze(1);
      return LossTerms{{"fit", (net->forward(x) - torch::sin(3 * x)).square().mean()}};
    };
  };
  constexpr int64_t steps = 3000, call = 20;
  auto train = [&](bool restart) {
    Regression r(7, torch::kFloat32);
    Trainer t(r.net.ptr(), fit(r.net),
              TrainerOptions().phases({PhaseOptions().optimizer("lbfgs").steps(steps).restart_on_stall(restart)})
                  .progress("none"));
    const double before_last = t.run(steps - call).loss;  // where the second-to-last call started
    const double last = t.run().loss;                     // where the last call started
    return std::tuple{before_last, last, t.lbfgs_restarts()};
  };
  const auto [stuck_before, stuck, none] = train(false);
  REQUIRE(none == 0);
  REQUIRE(stuck == stuck_before);  // LibTorch's L-BFGS alone: the last calls repeat the same failed line search
  const auto [before, after, restarts] = train(true);
  CAPTURE(stuck, after, restarts);
  REQUIRE(restarts > 0);
  REQUIRE(after < stuck);
}
