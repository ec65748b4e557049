// Configuration errors carry file, line and column; nothing is silently ignored.
#include "core/config.h"
#include "core/strings.h"
#include "core/trainer.h"

#include <catch2/catch.hpp>

using physis::config::ConfigError;
using physis::config::Section;

TEST_CASE("typed values, defaults and required keys", "[config]") {
  auto s = Section::load_string("steps: 200\nlr: 1.0e-3\nname: poisson\nflag: true\nlist: [1, 2, 3]\n", "p.yaml");
  REQUIRE(s.get<int64_t>("steps") == 200);
  REQUIRE(s.get<double>("lr") == 1e-3);
  REQUIRE(s.get<std::string>("name") == "poisson");
  REQUIRE(s.get<bool>("flag"));
  REQUIRE(s.get<std::vector<int>>("list") == std::vector<int>{1, 2, 3});
  REQUIRE(s.get<double>("missing", 4.5) == 4.5);
  REQUIRE_NOTHROW(s.finish());
}

TEST_CASE("wrong types name the file, line and column", "[config]") {
  auto s = Section::load_string("a: 1\ntraining:\n  steps: many\n", "problem.yaml");
  auto t = s.child("training");
  try {
    t.get<int64_t>("steps");
    FAIL("no error");
  } catch (const ConfigError& e) {
    REQUIRE(e.file() == "problem.yaml");
    REQUIRE(e.line() == 3);
    REQUIRE(e.column() == 10);
    REQUIRE_THAT(e.what(), Catch::Contains("problem.yaml:3:10") && Catch::Contains("'training.steps' must be an integer"));
  }
}

TEST_CASE("unknown keys are errors at their position", "[config]") {
  auto s = Section::load_string("steps: 10\nstpes: 20\n", "f.yaml");
  s.get<int64_t>("steps");
  try {
    s.finish();
    FAIL("no error");
  } catch (const ConfigError& e) {
    REQUIRE(e.line() == 2);
    REQUIRE(e.column() == 1);
    REQUIRE_THAT(e.what(), Catch::Contains("unknown key 'stpes'") && Catch::Contains("steps"));
  }
}

TEST_CASE("an unknown key names the closest key the parser knows, read or only looked for", "[config]") {
  auto s = Section::load_string("steps: 10\ncomponets: 4\n", "f.yaml");
  s.get<int64_t>("steps");
  s.get<int64_t>("components", 2);  // optional and absent from the file: known all the same
  s.get<double>("beta", 1.0);
  REQUIRE_THROWS_WITH(s.finish(), Catch::Contains("f.yaml:2:1") && Catch::Contains("unknown key 'componets'") &&
                                      Catch::Contains("did you mean 'components'?") && Catch::Contains("beta"));
  // Nothing close: no guess, the list only.
  auto far = Section::load_string("steps: 10\nzzzzzz: 1\n", "f.yaml");
  far.get<int64_t>("steps");
  try {
    far.finish();
    FAIL("no error");
  } catch (const ConfigError& e) {
    REQUIRE_THAT(e.what(), !Catch::Contains("did you mean") && Catch::Contains("known keys here: steps"));
  }
}

TEST_CASE("missing keys and malformed YAML", "[config]") {
  auto s = Section::load_string("training: {}\n", "f.yaml");
  REQUIRE_THROWS_WITH(s.child("training").get<int64_t>("steps"), Catch::Contains("missing required key 'training.steps'"));
  try {
    Section::load_string("a: [1, 2\nb: 3\n", "bad.yaml");
    FAIL("no error");
  } catch (const ConfigError& e) {
    REQUIRE(e.line() >= 1);
    REQUIRE_THAT(e.what(), Catch::StartsWith("bad.yaml:") && Catch::Contains("malformed YAML"));
  }
  REQUIRE_THROWS_WITH(Section::load_file("/nonexistent/problem.yaml"), Catch::Contains("cannot open"));
}

TEST_CASE("overrides change keys, list items and whole sections before anything reads them", "[config]") {
  const std::string text =
      "network: {hidden: [32, 32], activation: tanh}\n"
      "training:\n"
      "  phases:\n"
      "    - {optimizer: adam, steps: 100, lr: 1.0e-3}\n"
      "    - {optimizer: lbfgs, steps: 50}\n";
  auto s = Section::load_string(text, "p.yaml");
  s.set("network.hidden=[64, 64, 64]");
  s.set("training.phases[1].steps=500");
  s.set("training.seed=7");        // a key the file does not have
  s.set("output.grid=[11, 21]");   // a section the file does not have
  REQUIRE(s.child("network").get<std::vector<int>>("hidden") == std::vector<int>{64, 64, 64});
  REQUIRE(s.child("network").get<std::string>("activation") == "tanh");  // the rest of the mapping stays
  auto phases = s.child("training").items("phases");
  REQUIRE(phases.size() == 2);
  REQUIRE(phases[0].get<int64_t>("steps") == 100);
  REQUIRE(phases[1].get<int64_t>("steps") == 500);
  REQUIRE(s.child("training").get<int64_t>("seed") == 7);
  REQUIRE(s.child("output").get<std::vector<int>>("grid") == std::vector<int>{11, 21});
  // Errors in what the file says still name the file; the last override of a path wins.
  s.set("training.phases[0]={optimizer: adam, steps: 5}");
  REQUIRE(s.child("training").items("phases")[0].get<int64_t>("steps") == 5);
  REQUIRE_FALSE(s.child("training").items("phases")[0].has("lr"));
  REQUIRE(s.child("training").items("phases")[0].origin() == "--set training.phases[0]={optimizer: adam, steps: 5}");
  REQUIRE(s.child("training").items("phases")[1].origin() == "p.yaml");  // only its steps were set
  REQUIRE(s.child("training").items("phases")[1].origin_of("steps") == "--set training.phases[1].steps=500");
  REQUIRE(s.child("network").origin_of("activation") == "p.yaml");
}

TEST_CASE("a mistake in an override names the override and the column in it", "[config]") {
  auto s = Section::load_string("training: {steps: 100}\n", "p.yaml");
  s.set("training.steps=many");
  try {
    s.child("training").get<int64_t>("steps");
    FAIL("no error");
  } catch (const ConfigError& e) {
    REQUIRE(e.file() == "--set training.steps=many");
    REQUIRE(e.line() == 1);
    REQUIRE(e.column() == 16);  // 'many' starts at column 16 of "training.steps=many"
    REQUIRE_THAT(e.what(), Catch::Contains("'training.steps' must be an integer"));
  }
  // An unknown key brought in by an override is reported against it, with the keys the parser knows.
  auto t = Section::load_string("training: {steps: 100}\n", "p.yaml");
  t.set("training.stepz=5");
  auto training = t.child("training");
  training.get<int64_t>("steps");
  REQUIRE_THROWS_WITH(training.finish(), Catch::StartsWith("--set training.stepz=5") &&
                                             Catch::Contains("unknown key 'training.stepz'") &&
                                             Catch::Contains("did you mean 'steps'?"));
}

TEST_CASE("malformed overrides are errors naming them", "[config]") {
  auto s = Section::load_string("network: {hidden: [32, 32]}\ntraining:\n  phases:\n    - {steps: 1}\n", "p.yaml");
  auto error = [&](const std::string& assignment) {
    try {
      s.set(assignment);
    } catch (const ConfigError& e) {
      REQUIRE(e.file() == "--set " + assignment);
      return std::string(e.what());
    }
    FAIL("no error for " + assignment);
    return std::string();
  };
  REQUIRE_THAT(error("network.hidden"), Catch::Contains("expected KEY=VALUE"));
  REQUIRE_THAT(error("=3"), Catch::Contains("expected KEY=VALUE"));
  REQUIRE_THAT(error("network..hidden=3"), Catch::Contains("not a key path"));
  REQUIRE_THAT(error("network.=3"), Catch::Contains("not a key path"));
  REQUIRE_THAT(error("training.phases[x].steps=3"), Catch::Contains("not a key path"));
  REQUIRE_THAT(error("training.phases[99999999999].steps=3"), Catch::Contains("not a key path"));
  REQUIRE_THAT(error("training.phases[3].steps=3"), Catch::Contains("'training.phases' has 1 item(s); no item [3]"));
  REQUIRE_THAT(error("network[0]=3"), Catch::Contains("'network' is not a list"));
  REQUIRE_THAT(error("network.hidden.width=3"), Catch::Contains("'network.hidden' is not a mapping"));
  REQUIRE_THAT(error("network.hidden=[64, 64"), Catch::Contains("malformed YAML value"));
  // None of these changed the tree.
  REQUIRE(s.child("network").get<std::vector<int>>("hidden") == std::vector<int>{32, 32});
  REQUIRE(s.child("training").items("phases")[0].get<int64_t>("steps") == 1);
}

TEST_CASE("trainer options parse phases and reject mistakes with positions", "[config]") {
  auto s = Section::load_string(
      "phases:\n  - {optimizer: adam, steps: 100, lr: 2.0e-3, schedule: cosine}\n  - {optimizer: lbfgs, steps: 50, restart_on_stall: false}\nlog_every: 10\n",
      "t.yaml");
  auto t = physis::TrainerOptions::from_config(s);
  s.finish();
  REQUIRE(t.phases().size() == 2);
  REQUIRE(t.phases()[0].lr() == 2e-3);
  REQUIRE(t.phases()[0].lr_at(100) == Approx(0.0).margin(1e-15));
  REQUIRE(t.phases()[1].optimizer() == "lbfgs");
  REQUIRE(t.phases()[0].restart_on_stall());  // the default
  REQUIRE_FALSE(t.phases()[1].restart_on_stall());
  REQUIRE(t.total_steps() == 150);
  auto bad = Section::load_string("phases:\n  - {optimizer: sgdd}\n", "t.yaml");
  REQUIRE_THROWS_WITH(physis::TrainerOptions::from_config(bad), Catch::Contains("t.yaml:2:") && Catch::Contains("unknown optimizer 'sgdd'"));
  auto typo = Section::load_string("phases:\n  - {optimizer: adam, setps: 5}\n", "t.yaml");
  REQUIRE_THROWS_WITH(physis::TrainerOptions::from_config(typo), Catch::Contains("unknown key 'phases[0].setps'"));
}

TEST_CASE("choice lists for messages", "[config]") {
  REQUIRE(physis::join_or({}).empty());
  REQUIRE(physis::join_or({"a"}) == "a");
  REQUIRE(physis::join_or({"a", "b"}) == "a or b");
  REQUIRE(physis::join_or({"a", "b", "c"}) == "a, b or c");
  REQUIRE(physis::join_or({"a", "b", "c"}, "and") == "a, b and c");
}
