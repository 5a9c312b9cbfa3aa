#pragma once

#include <QByteArray>
#include <QString>
#include <QStringList>

namespace route {

// The seed's client check, step by step: "Bearer" prefix, strip, compare.
namespace Authenticator {

enum class Verdict { Accepted, NotBearer, WrongToken };

// matchedToken, when given, receives the 1-based position of the accepted
// token (records name a client by it, never by the token itself).
Verdict check(const QByteArray &authorizationHeader, const QStringList &tokens, int *matchedToken = nullptr);
// What to check: the Authorization header, or when none was sent, the
// Anthropic SDK's `x-api-key` as if it were a Bearer token (SPEC §9).
QByteArray credential(const QByteArray &authorization, const QByteArray &apiKey);

// The seed's exact texts.
QString message(Verdict verdict);

} // namespace Authenticator

} // namespace route
