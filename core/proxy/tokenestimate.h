#pragma once

#include <QByteArray>

namespace route {

// A rough count of tokens, for when no upstream can count them (Messages'
// count_tokens with no Anthropic upstream). About four characters of Latin
// text to a token, one per CJK character, a fixed price per image.
namespace TokenEstimate {

// The input of a Messages request: system, messages and tools.
int messagesInput(const QByteArray &body);

} // namespace TokenEstimate

} // namespace route
