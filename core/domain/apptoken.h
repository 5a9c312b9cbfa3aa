#pragma once

#include <QByteArray>
#include <QDateTime>
#include <QString>
#include <QStringList>

#include <optional>

namespace route {

// An app token (SPEC §11): a row of `client_tokens`. Valid on /v1/* only,
// with its own limits; the database keeps a hash of the token, never the
// token itself.
struct AppToken
{
    qint64 id = 0;
    QString name;
    QByteArray hash; // hex SHA-256 of the token
    QString prefix; // its first 12 characters, to tell tokens apart
    bool enabled = true;
    QDateTime expiresAt; // invalid = never
    QStringList allow; // model globs; empty = every model
    int rpm = 0; // requests per minute; 0 = no limit
    qint64 dailyTokenLimit = 0; // tokens per UTC day; 0 = no limit
    double monthlyBudgetUsd = 0; // per UTC month; 0 = no limit
    QDateTime createdAt;
    QDateTime lastUsedAt;

    bool isExpired(const QDateTime &now) const { return expiresAt.isValid() && expiresAt <= now; }
    // Whether MODEL is one this token may ask for.
    bool allowsModel(const QString &model) const;

    // The stored form of TOKEN.
    static QByteArray hashOf(QByteArrayView token);
    static constexpr int prefixLength = 12;
};

// What an app token has spent: tokens this UTC day, dollars this UTC month.
struct TokenSpend
{
    qint64 tokensToday = 0;
    double costThisMonthUsd = 0;
};

// The fields a caller may set; unset ones keep their value.
struct AppTokenPatch
{
    std::optional<QString> name;
    std::optional<bool> enabled;
    std::optional<QDateTime> expiresAt; // an invalid one clears the expiry
    std::optional<QStringList> allow;
    std::optional<int> rpm;
    std::optional<qint64> dailyTokenLimit;
    std::optional<double> monthlyBudgetUsd;

    void applyTo(AppToken &t) const;
};

} // namespace route
