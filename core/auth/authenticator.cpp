#include "auth/authenticator.h"

#include "util/secrets.h"

namespace route {

namespace Authenticator {

Verdict check(const QByteArray &authorizationHeader, const QStringList &tokens, int *matchedToken)
{
    if (!authorizationHeader.startsWith("Bearer"))
        return Verdict::NotBearer;
    const QByteArray presented = authorizationHeader.mid(6).trimmed();
    int matched = 0;
    // Every token is compared, so the time does not tell which one matched.
    for (int i = 0; i < tokens.size(); ++i)
        if (Secrets::constantTimeEquals(presented, tokens[i].toUtf8()))
            matched = i + 1;
    if (matchedToken)
        *matchedToken = matched;
    return matched > 0 && !presented.isEmpty() ? Verdict::Accepted : Verdict::WrongToken;
}

QByteArray credential(const QByteArray &authorization, const QByteArray &apiKey)
{
    if (!authorization.isEmpty() || apiKey.trimmed().isEmpty())
        return authorization;
    return "Bearer " + apiKey.trimmed();
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

} // namespace route
