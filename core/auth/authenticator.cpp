#include "auth/authenticator.h"

#include "util/secrets.h"

namespace Authenticator {

Verdict check(const QByteArray &authorizationHeader, const QStringList &tokens)
{
    if (!authorizationHeader.startsWith("Bearer"))
        return Verdict::NotBearer;
    const QByteArray presented = authorizationHeader.mid(6).trimmed();
    bool matched = false;
    // Every token is compared, so the time does not tell which one matched.
    for (const QString &token : tokens)
        matched |= Secrets::constantTimeEquals(presented, token.toUtf8());
    return matched && !presented.isEmpty() ? Verdict::Accepted : Verdict::WrongToken;
}

QString message(Verdict verdict)
{
    switch (verdict) {
    case Verdict::NotBearer: return QStringLiteral("authorization header should start with 'Bearer'");
    case Verdict::WrongToken: return QStringLiteral("wrong authorization header");
    case Verdict::Accepted: break;
    }
    return QString();
}

} // namespace Authenticator
