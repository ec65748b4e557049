// Typed access to YAML configuration with errors that name file, line and column.
//
// Each component parses its own section:
//   auto cfg = physis::config::Section::load_file("problem.yaml");
//   auto training = cfg.child("training");
//   int64_t steps = training.get<int64_t>("steps", 20000);
//   training.finish();   // any key that was never read is an error ("unknown key 'stpes' ...")
//
// Command-line overrides change the tree before anything reads it, with a mistake in an overridden value reported
// against the override, not the file:
//   cfg.set("network.hidden=[64, 64, 64, 64]");     // `physis solve FILE --set network.hidden=[64,64,64,64]`
//   cfg.set("training.phases[0].steps=5000");
#pragma once

#include <yaml-cpp/yaml.h>

#include <memory>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

namespace physis::config {

// A configuration mistake; what() reads "file:line:column: message".
class ConfigError : public std::runtime_error {
 public:
  ConfigError(std::string file, int line, int column, const std::string& message);
  const std::string& file() const { return file_; }
  int line() const { return line_; }      // 1-based, 0 when unknown
  int column() const { return column_; }  // 1-based, 0 when unknown

 private:
  std::string file_;
  int line_;
  int column_;
};

namespace detail {
template <class T>
const char* type_name();
}  // namespace detail

// One YAML mapping (or scalar/sequence item) with the file it came from and the keys read so far.
class Section {
 public:
  Section(YAML::Node node, std::shared_ptr<const std::string> file, std::string path);

  static Section load_file(const std::string& path);
  // The file with `overrides` applied in order (set() below).
  static Section load_file(const std::string& path, const std::vector<std::string>& overrides);
  static Section load_string(const std::string& text, const std::string& name = "<string>");

  // Applies `path=value` to this (top-level) section: path as in path() (keys by dots, list items by [i]; mappings
  // along it are made when missing, items must exist), value a YAML value ("5000", "[64, 64]", "{lr: 1e-4}").
  // Errors located in the value, or anywhere under the path, name "--set path=value" instead of the file.
  void set(const std::string& assignment);

  const YAML::Node& node() const { return node_; }
  const std::string& file() const { return *file_; }  // the file read (relative paths resolve from it)
  // Where this node, or a key of this mapping, was written, for messages: the file, or "--set ..." when an override
  // (set) gave it; line and column (location(), location_of()) count in that text.
  const std::string& origin() const { return origin_of_path(path_); }
  const std::string& origin_of(const std::string& key) const { return origin_of_path(key_path(key)); }
  const std::string& path() const { return path_; }  // e.g. "training.phases[1]"
  bool is_map() const { return node_.IsMap(); }
  bool is_sequence() const { return node_.IsSequence(); }
  bool is_scalar() const { return node_.IsScalar(); }

  bool has(const std::string& key) const;

  // Required key; marks it read. Throws ConfigError when missing or of the wrong type.
  template <class T>
  T get(const std::string& key) const {
    return convert<T>(require(key), key);
  }
  // Optional key with a default; marks it read.
  template <class T>
  T get(const std::string& key, const T& fallback) const {
    if (!has(key)) return fallback;
    return get<T>(key);
  }
  template <class T>
  std::optional<T> get_optional(const std::string& key) const {
    if (!has(key)) return std::nullopt;
    return get<T>(key);
  }
  // This node's own scalar value (for sequence items and scalars).
  template <class T>
  T as() const {
    return convert<T>(node_, path_);
  }

  Section child(const std::string& key) const;                       // required
  std::optional<Section> optional_child(const std::string& key) const;
  std::vector<Section> items(const std::string& key) const;          // required sequence
  std::vector<Section> items() const;                                // this node as a sequence
  std::vector<std::string> keys() const;                             // this node's keys, in file order

  // Marks every key of this mapping as read (for sections handed to another parser).
  void mark_all_read() const;
  // Throws ConfigError naming the first key of this mapping that nothing read.
  void finish() const;

  // Errors located at this node or at one of its keys.
  [[noreturn]] void fail(const std::string& message) const;
  [[noreturn]] void fail_at(const std::string& key, const std::string& message) const;
  // Line/column (1-based) of this node, or of a key of this mapping.
  std::pair<int, int> location() const;
  std::pair<int, int> location_of(const std::string& key) const;

 private:
  YAML::Node require(const std::string& key) const;
  [[noreturn]] void fail_at_mark(const YAML::Mark& mark, const std::string& path, const std::string& message) const;
  std::string key_path(const std::string& key) const;
  const std::string& origin_of_path(const std::string& path) const;

  template <class T>
  T convert(const YAML::Node& value, const std::string& key) const {
    try {
      return value.as<T>();
    } catch (const YAML::Exception&) {
      fail_at_mark(value.Mark(), key_path(key),
                   "'" + key_path(key) + "' must be " + detail::type_name<T>() + ", got '" + describe(value) + "'");
    }
  }
  static std::string describe(const YAML::Node& value);

  YAML::Node node_;
  std::shared_ptr<const std::string> file_;
  std::string path_;
  std::shared_ptr<std::set<std::string>> read_;
  std::shared_ptr<std::set<std::string>> asked_;  // keys looked for but absent: known to the parser all the same
  // (path, "--set path=value") of each override, shared by the whole tree
  std::shared_ptr<std::vector<std::pair<std::string, std::string>>> overrides_;
};

namespace detail {
template <class T>
const char* type_name() {
  if constexpr (std::is_same_v<T, bool>) return "true or false";
  else if constexpr (std::is_integral_v<T>) return "an integer";
  else if constexpr (std::is_floating_point_v<T>) return "a number";
  else if constexpr (std::is_same_v<T, std::string>) return "a string";
  else return "a list";
}
}  // namespace detail

}  // namespace physis::config
