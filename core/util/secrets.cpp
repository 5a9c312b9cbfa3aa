#include "util/secrets.h"

#include <QRandomGenerator>

namespace route {

namespace Secrets {

QString mask(const QString &secret)
{
    if (secret.isEmpty())
        return QString();
    if (secret.size() <= 8)
        return QString(secret.size(), QLatin1Char('*'));
    const int head = secret.startsWith(QLatin1String("sk-")) ? 5 : 2;
    return secret.left(head) + QChar(0x2026) + secret.right(4);
}

bool constantTimeEquals(QByteArrayView presented, QByteArrayView stored)
{
    if (stored.isEmpty())
        return presented.isEmpty();
    // One pass over the presented bytes, cycling through the stored ones:
    // the time follows the length the client sent, never the stored
    // secret's length or how much of it matched. (Two SHA-256 digests did
    // the same at 10k instructions, a tenth of a proxied request.)
    const qsizetype n = stored.size();
    size_t diff = size_t(presented.size() ^ n);
    qsizetype j = 0;
    for (qsizetype i = 0; i < presented.size(); ++i) {
        diff |= static_cast<unsigned char>(presented[i] ^ stored[j]);
        j = j + 1 == n ? 0 : j + 1;
    }
    return diff == 0;
}

QString generateToken()
{
    static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    QString token = QStringLiteral("sk-route-");
    auto *rng = QRandomGenerator::system();
    for (int i = 0; i < 32; ++i)
        token += QLatin1Char(alphabet[rng->bounded(int(sizeof(alphabet) - 1))]);
    return token;
}

} // namespace Secrets

} // namespace route
