#pragma once

#include <QByteArray>
#include <QString>
#include <QStringList>

// The seed's client check, step by step: "Bearer" prefix, strip, compare.
namespace Authenticator {

enum class Verdict { Accepted, NotBearer, WrongToken };

Verdict check(const QByteArray &authorizationHeader, const QStringList &tokens);
// The seed's exact texts.
QString message(Verdict verdict);

} // namespace Authenticator
