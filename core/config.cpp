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
      asked_(std::make_shared<std::set<std::string>>()),
      overrides_(std::make_shared<std::vector<std::pair<std::string, std::string>>>()) {}

Section Section::load_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw ConfigError(path, 0, 0, "cannot open the file (check the path and permissions)");
  std::stringstream text;
  text << in.rdbuf();
  return load_string(text.str(), path);
}

Section Section::load_file(const std::string& path, const std::vector<std::string>& overrides) {
  auto root = load_file(path);
  for (const auto& assignment : overrides) root.set(assignment);
  return root;
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
  Section out(require(key), file_, key_path(key));
  out.overrides_ = overrides_;
  return out;
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
  for (std::size_t i = 0; i < node_.size(); ++i) {
    out.emplace_back(node_[i], file_, path_ + "[" + std::to_string(i) + "]");
    out.back().overrides_ = overrides_;
  }
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
    fail_at_mark(kv.first.Mark(), key_path(key),
                 "unknown key '" + key_path(key) + "'" + (hint.empty() ? "" : " (" + hint + ")"));
  }
}

void Section::fail(const std::string& message) const { fail_at_mark(node_.Mark(), path_, message); }

void Section::fail_at(const std::string& key, const std::string& message) const {
  if (node_.IsMap())
    for (const auto& kv : node_)
      if (kv.first.as<std::string>() == key) fail_at_mark(kv.second.Mark(), key_path(key), message);
  fail(message);
}

std::pair<int, int> Section::location() const { return {node_.Mark().line + 1, node_.Mark().column + 1}; }

std::pair<int, int> Section::location_of(const std::string& key) const {
  if (node_.IsMap())
    for (const auto& kv : node_)
      if (kv.first.as<std::string>() == key) return {kv.second.Mark().line + 1, kv.second.Mark().column + 1};
  return location();
}

void Section::fail_at_mark(const YAML::Mark& mark, const std::string& path, const std::string& message) const {
  // yaml-cpp marks are 0-based; a node made in code has line -1.
  throw ConfigError(origin_of_path(path), mark.line < 0 ? 0 : mark.line + 1, mark.column < 0 ? 0 : mark.column + 1,
                    message);
}

const std::string& Section::origin_of_path(const std::string& path) const {
  // The last override at or above the path wrote it (a later override of a part replaces that part).
  for (auto it = overrides_->rbegin(); it != overrides_->rend(); ++it) {
    const auto& [at, label] = *it;
    if (path.compare(0, at.size(), at) == 0 &&
        (path.size() == at.size() || path[at.size()] == '.' || path[at.size()] == '['))
      return label;
  }
  return *file_;
}

void Section::set(const std::string& assignment) {
  const std::string label = "--set " + assignment;
  auto bad = [&](const std::string& message) { throw ConfigError(label, 0, 0, message); };
  if (!path_.empty()) bad("overrides apply to the top level of a file");
  const auto equals = assignment.find('=');
  if (equals == std::string::npos || equals == 0)
    bad("expected KEY=VALUE, e.g. training.phases[0].steps=5000 or network.hidden=[64,64]");
  const std::string path = assignment.substr(0, equals);

  // The value, parsed as it stands after "--set path=": a one-line value is indented by that much, so that the
  // columns of its marks count in the whole "path=value" text.
  const std::string text = assignment.substr(equals + 1);
  YAML::Node value;
  try {
    value = YAML::Load(text.find('\n') == std::string::npos ? std::string(equals + 1, ' ') + text : text);
  } catch (const YAML::ParserException& e) {
    throw ConfigError(label, e.mark.line + 1, e.mark.column + 1, "malformed YAML value: " + e.msg);
  }

  // Walk the path: keys between dots, each followed by any number of [index].
  YAML::Node node = node_;
  std::string walked;
  std::size_t at = 0;
  auto step_into = [&](YAML::Node parent, const std::string& key, std::optional<std::size_t> index, bool last) {
    if (index) {
      if (!parent.IsSequence()) bad("'" + walked + "' is not a list");
      if (*index >= parent.size())
        bad("'" + walked + "' has " + std::to_string(parent.size()) + " item(s); no item [" + std::to_string(*index) +
            "]");
      walked += "[" + std::to_string(*index) + "]";
      if (last) parent[*index] = value;
      return parent[*index];
    }
    if (!parent.IsMap() && !parent.IsNull()) bad("'" + walked + "' is not a mapping of keys");
    walked += (walked.empty() ? "" : ".") + key;
    if (last) parent[key] = value;
    else if (!parent[key] || parent[key].IsNull()) parent[key] = YAML::Node(YAML::NodeType::Map);
    return parent[key];
  };
  while (at < path.size()) {
    const auto dot = path.find('.', at);
    const std::string part = path.substr(at, dot == std::string::npos ? std::string::npos : dot - at);
    at = dot == std::string::npos ? path.size() : dot + 1;
    const auto bracket = part.find('[');
    const std::string key = part.substr(0, bracket);
    if (key.empty() || (dot != std::string::npos && at == path.size()))
      bad("'" + path + "' is not a key path (keys joined by dots, list items by [i], e.g. training.phases[0].lr)");
    std::vector<std::size_t> indices;
    for (auto b = bracket; b != std::string::npos; b = part.find('[', b + 1)) {
      const auto close = part.find(']', b);
      const std::string digits = close == std::string::npos ? "" : part.substr(b + 1, close - b - 1);
      if (digits.empty() || digits.size() > 9 || digits.find_first_not_of("0123456789") != std::string::npos ||
          (close + 1 < part.size() && part[close + 1] != '['))
        bad("'" + path + "' is not a key path (list items are written [0], [1], ...)");
      indices.push_back(std::stoul(digits));
    }
    const bool last_part = at == path.size();
    // (reset, not =, moves a Node handle: assigning to one overwrites the node it refers to)
    node.reset(step_into(node, key, std::nullopt, last_part && indices.empty()));
    for (std::size_t i = 0; i < indices.size(); ++i)
      node.reset(step_into(node, "", indices[i], last_part && i + 1 == indices.size()));
  }
  overrides_->emplace_back(walked, label);
}

std::string Section::describe(const YAML::Node& value) {
  if (value.IsScalar()) return value.Scalar();
  if (value.IsSequence()) return "a list";
  if (value.IsMap()) return "a mapping";
  return "nothing";
}

}  // namespace physis::config
