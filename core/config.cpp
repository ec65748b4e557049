#include "core/config.h"

#include <algorithm>
#include <fstream>
#include <sstream>
#include <vector>

namespace physis::config {

namespace {
std::string format_location(const std::string& file, int line, int column, const std::string& message) {
  std::ostringstream out;
  out << file;
  if (line > 0) out << ":" << line << ":" << column;
  out << ": " << message;
  return out.str();
}
}  // namespace

ConfigError::ConfigError(std::string file, int line, int column, const std::string& message)
    : std::runtime_error(format_location(file, line, column, message)),
      file_(std::move(file)),
      line_(line),
      column_(column) {}

Section::Section(YAML::Node node, std::shared_ptr<const std::string> file, std::string path)
    : node_(std::move(node)),
      file_(std::move(file)),
      path_(std::move(path)),
      read_(std::make_shared<std::set<std::string>>()),
      asked_(std::make_shared<std::set<std::string>>()) {}

Section Section::load_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw ConfigError(path, 0, 0, "cannot open the file (check the path and permissions)");
  std::stringstream text;
  text << in.rdbuf();
  return load_string(text.str(), path);
}

Section Section::load_string(const std::string& text, const std::string& name) {
  try {
    YAML::Node root = YAML::Load(text);
    if (!root.IsMap() && !root.IsNull())
      throw ConfigError(name, root.Mark().line + 1, root.Mark().column + 1,
                        "expected a mapping of keys at the top level");
    return Section(root.IsNull() ? YAML::Node(YAML::NodeType::Map) : root,
                   std::make_shared<const std::string>(name), "");
  } catch (const YAML::ParserException& e) {
    throw ConfigError(name, e.mark.line + 1, e.mark.column + 1, "malformed YAML: " + e.msg);
  }
}

bool Section::has(const std::string& key) const {
  const bool present = node_.IsMap() && node_[key] && !node_[key].IsNull();
  if (!present && node_.IsMap()) asked_->insert(key);
  return present;
}

std::string Section::key_path(const std::string& key) const {
  if (path_.empty()) return key;
  if (key.empty() || key == path_) return path_;
  return path_ + "." + key;
}

YAML::Node Section::require(const std::string& key) const {
  if (!node_.IsMap()) fail("'" + (path_.empty() ? std::string("<top>") : path_) + "' must be a mapping of keys");
  read_->insert(key);
  YAML::Node value = node_[key];
  if (!value || value.IsNull()) fail("missing required key '" + key_path(key) + "'");
  return value;
}

Section Section::child(const std::string& key) const {
  return Section(require(key), file_, key_path(key));
}

std::optional<Section> Section::optional_child(const std::string& key) const {
  if (!has(key)) {
    if (node_.IsMap()) read_->insert(key);
    return std::nullopt;
  }
  return child(key);
}

std::vector<Section> Section::items(const std::string& key) const {
  return child(key).items();
}

std::vector<Section> Section::items() const {
  if (!node_.IsSequence()) fail("'" + path_ + "' must be a list");
  std::vector<Section> out;
  for (std::size_t i = 0; i < node_.size(); ++i)
    out.emplace_back(node_[i], file_, path_ + "[" + std::to_string(i) + "]");
  return out;
}

std::vector<std::string> Section::keys() const {
  std::vector<std::string> out;
  if (!node_.IsMap()) return out;
  for (const auto& kv : node_) out.push_back(kv.first.as<std::string>());
  return out;
}

void Section::mark_all_read() const {
  for (const auto& key : keys()) read_->insert(key);
}

namespace {

// Levenshtein distance between two keys (short strings).
std::size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diagonal = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

}  // namespace

void Section::finish() const {
  if (!node_.IsMap()) return;
  for (const auto& kv : node_) {
    const auto key = kv.first.as<std::string>();
    if (read_->count(key)) continue;
    // Known here: every key the parser read or looked for (optional keys absent from the file included).
    std::set<std::string> known_keys(read_->begin(), read_->end());
    known_keys.insert(asked_->begin(), asked_->end());
    std::string known, closest;
    std::size_t best = std::max<std::size_t>(1, key.size() / 3) + 1;
    for (const auto& k : known_keys) {
      known += (known.empty() ? "" : ", ") + k;
      const auto d = edit_distance(key, k);
      if (d < best) best = d, closest = k;
    }
    std::string hint;
    if (!closest.empty()) hint = "did you mean '" + closest + "'? ";
    if (!known.empty()) hint += "known keys here: " + known;
    fail_at_mark(kv.first.Mark(), "unknown key '" + key_path(key) + "'" + (hint.empty() ? "" : " (" + hint + ")"));
  }
}

void Section::fail(const std::string& message) const { fail_at_mark(node_.Mark(), message); }

void Section::fail_at(const std::string& key, const std::string& message) const {
  if (node_.IsMap())
    for (const auto& kv : node_)
      if (kv.first.as<std::string>() == key) fail_at_mark(kv.second.Mark(), message);
  fail(message);
}

std::pair<int, int> Section::location() const { return {node_.Mark().line + 1, node_.Mark().column + 1}; }

std::pair<int, int> Section::location_of(const std::string& key) const {
  if (node_.IsMap())
    for (const auto& kv : node_)
      if (kv.first.as<std::string>() == key) return {kv.second.Mark().line + 1, kv.second.Mark().column + 1};
  return location();
}

void Section::fail_at_mark(const YAML::Mark& mark, const std::string& message) const {
  // yaml-cpp marks are 0-based; a node made in code has line -1.
  throw ConfigError(*file_, mark.line < 0 ? 0 : mark.line + 1, mark.column < 0 ? 0 : mark.column + 1, message);
}

std::string Section::describe(const YAML::Node& value) {
  if (value.IsScalar()) return value.Scalar();
  if (value.IsSequence()) return "a list";
  if (value.IsMap()) return "a mapping";
  return "nothing";
}

}  // namespace physis::config
