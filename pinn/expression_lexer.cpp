#include "pinn/expression_lexer.h"

#include "pinn/expression.h"

#include <cctype>
#include <charconv>

namespace physis::pinn::detail {
namespace {

bool is_digit(char c) { return std::isdigit(static_cast<unsigned char>(c)) != 0; }
bool starts_name(char c) { return std::isalpha(static_cast<unsigned char>(c)) != 0 || c == '_'; }
bool continues_name(char c) { return starts_name(c) || is_digit(c); }

// Length of the number starting at i: 1, 2.5, .5, 2., 1e-3. The exponent is taken only when digits follow,
// so "2e" stays a number followed by the constant e (and then fails as a missing operator, with a hint).
size_t number_length(const std::string& s, size_t i) {
  size_t j = i;
  while (j < s.size() && is_digit(s[j])) ++j;
  if (j < s.size() && s[j] == '.') {
    ++j;
    while (j < s.size() && is_digit(s[j])) ++j;
  }
  if (j < s.size() && (s[j] == 'e' || s[j] == 'E')) {
    size_t k = j + 1;
    if (k < s.size() && (s[k] == '+' || s[k] == '-')) ++k;
    if (k < s.size() && is_digit(s[k])) {
      while (k < s.size() && is_digit(s[k])) ++k;
      j = k;
    }
  }
  return j - i;
}

}  // namespace

std::vector<Token> tokenize(const std::string& text, const std::string& helper) {
  std::vector<Token> tokens;
  size_t i = 0;
  while (i < text.size()) {
    const char c = text[i];
    const int column = static_cast<int>(i) + 1;
    if (std::isspace(static_cast<unsigned char>(c))) {
      ++i;
    } else if (is_digit(c) || (c == '.' && i + 1 < text.size() && is_digit(text[i + 1]))) {
      const size_t n = number_length(text, i);
      Token t{TokenKind::Number, text.substr(i, n), 0.0, column};
      std::from_chars(text.data() + i, text.data() + i + n, t.number);
      tokens.push_back(t);
      i += n;
    } else if (starts_name(c)) {
      size_t j = i;
      while (j < text.size() && continues_name(text[j])) ++j;
      tokens.push_back({TokenKind::Name, text.substr(i, j - i), 0.0, column});
      i = j;
    } else if (c == '(' || c == ')' || c == ',') {
      const TokenKind kind = c == '(' ? TokenKind::LeftParen : c == ')' ? TokenKind::RightParen : TokenKind::Comma;
      tokens.push_back({kind, std::string(1, c), 0.0, column});
      ++i;
    } else {
      // Two-character operators first, so "<=" is not read as "<" then "=".
      static const char* const two[] = {"**", "<=", ">=", "==", "!=", "&&", "||"};
      std::string op;
      for (const char* t : two)
        if (text.compare(i, 2, t) == 0) op = t;
      if (op.empty() && std::string("+-*/^<>").find(c) != std::string::npos) op = std::string(1, c);
      if (op.empty()) {
        std::string hint = "expressions use numbers, names, + - * / ^ ( ) , comparisons, && and ||";
        if (c == '=') hint = "did you mean '=='?";
        if (c == '&') hint = "did you mean '&&'?";
        if (c == '|') hint = "did you mean '||'?";
        if (c == '!') hint = "did you mean '!='?";
        throw ExpressionError(column, helper, "unexpected character '" + std::string(1, c) + "'", hint);
      }
      tokens.push_back({TokenKind::Operator, op == "**" ? "^" : op, 0.0, column});
      i += op.size();
    }
  }
  tokens.push_back({TokenKind::End, "", 0.0, static_cast<int>(text.size()) + 1});
  return tokens;
}

}  // namespace physis::pinn::detail
