#include "domain/apptoken.h"

#include <QCryptographicHash>

#include <algorithm>

namespace route {

bool AppToken::allowsModel(const QString &model) const
{
    if (allow.isEmpty())
        return true;
    return std::any_of(allow.cbegin(), allow.cend(), [&](const QString &p) {
        return p.endsWith(QLatin1Char('*')) ? model.startsWith(QStringView(p).chopped(1)) : model == p;
    });
}

QByteArray AppToken::hashOf(QByteArrayView token)
{
    return QCryptographicHash::hash(token, QCryptographicHash::Sha256).toHex();
}

void AppTokenPatch::applyTo(AppToken &t) const
{
    if (name)
        t.name = *name;
    if (enabled)
        t.enabled = *enabled;
    if (expiresAt)
        t.expiresAt = *expiresAt;
    if (allow)
        t.allow = *allow;
    if (rpm)
        t.rpm = *rpm;
    if (dailyTokenLimit)
        t.dailyTokenLimit = *dailyTokenLimit;
    if (monthlyBudgetUsd)
        t.monthlyBudgetUsd = *monthlyBudgetUsd;
}

} // namespace route
