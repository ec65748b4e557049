// Tokens of the expression language. Internal to pinn/expression_*.cpp.
#pragma once

#include <string>
#include <vector>

namespace physis::pinn::detail {

enum class TokenKind { Number, Name, Operator, LeftParen, RightParen, Comma, End };

struct Token {
  TokenKind kind;
  std::string text;     // as written; "**" is normalised to "^"
  double number = 0.0;  // Number only
  int column = 0;       // 1-based; End sits one past the last character
};

// Splits text into tokens ending with End. Throws ExpressionError (attributed to helper, "" = main text) for a
// character outside the language.
std::vector<Token> tokenize(const std::string& text, const std::string& helper);

}  // namespace physis::pinn::detail
