// Small text helpers shared by the parsers and error messages of every layer.
#pragma once

#include <string>
#include <vector>

namespace physis {

// "a, b, c" (or with another separator).
inline std::string join(const std::vector<std::string>& items, const std::string& separator = ", ") {
  std::string out;
  for (std::size_t i = 0; i < items.size(); ++i) out += (i ? separator : "") + items[i];
  return out;
}

// "a, b or c" (or with another last word: "a, b and c"), for messages that list choices.
inline std::string join_or(const std::vector<std::string>& items, const std::string& last = "or") {
  std::string out;
  for (std::size_t i = 0; i < items.size(); ++i)
    out += (i == 0 ? "" : i + 1 == items.size() ? " " + last + " " : ", ") + items[i];
  return out;
}

// Without leading and trailing blanks (spaces, tabs, carriage returns, newlines).
inline std::string trim(const std::string& text) {
  const auto first = text.find_first_not_of(" \t\r\n");
  if (first == std::string::npos) return "";
  return text.substr(first, text.find_last_not_of(" \t\r\n") - first + 1);
}

}  // namespace physis
