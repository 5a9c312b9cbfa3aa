#include "util/secrets.h"

#include <QCryptographicHash>
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

bool constantTimeEquals(const QByteArray &a, const QByteArray &b)
{
    // Hashing first gives equal-length inputs, so the length of a stored
    // token does not leak either.
    const QByteArray ha = QCryptographicHash::hash(a, QCryptographicHash::Sha256);
    const QByteArray hb = QCryptographicHash::hash(b, QCryptographicHash::Sha256);
    unsigned char diff = 0;
    for (int i = 0; i < ha.size(); ++i)
        diff |= static_cast<unsigned char>(ha[i] ^ hb[i]);
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
