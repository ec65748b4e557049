#include "core/config.h"

#include <fstream>
#include <sstream>

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
      read_(std::make_shared<std::set<std::string>>()) {}

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
  return node_.IsMap() && node_[key] && !node_[key].IsNull();
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

void Section::finish() const {
  if (!node_.IsMap()) return;
  for (const auto& kv : node_) {
    const auto key = kv.first.as<std::string>();
    if (read_->count(key)) continue;
    std::string known;
    for (const auto& k : *read_) known += (known.empty() ? "" : ", ") + k;
    fail_at_mark(kv.first.Mark(), "unknown key '" + key_path(key) + "'" +
                                      (known.empty() ? std::string() : " (known keys here: " + known + ")"));
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
