#include "http/errorbody.h"

#include <QJsonDocument>
#include <QJsonObject>

namespace route {

QByteArray openAiErrorBody(const QString &message, const QString &type, const QString &code)
{
    QJsonObject error{{QStringLiteral("message"), message}, {QStringLiteral("type"), type}};
    error.insert(QStringLiteral("code"), code.isEmpty() ? QJsonValue(QJsonValue::Null) : QJsonValue(code));
    return QJsonDocument(QJsonObject{{QStringLiteral("error"), error}}).toJson(QJsonDocument::Compact);
}

QByteArray anthropicErrorBody(const QString &message, const QString &type)
{
    // Anthropic's documented error types; ours that have no twin are api_error.
    static const QStringList same{QStringLiteral("invalid_request_error"), QStringLiteral("authentication_error"),
        QStringLiteral("permission_error"), QStringLiteral("not_found_error"), QStringLiteral("rate_limit_error"),
        QStringLiteral("overloaded_error")};
    const QString mapped = same.contains(type) ? type : QStringLiteral("api_error");
    const QJsonObject error{{QStringLiteral("type"), mapped}, {QStringLiteral("message"), message}};
    return QJsonDocument(
        QJsonObject{{QStringLiteral("type"), QStringLiteral("error")}, {QStringLiteral("error"), error}})
        .toJson(QJsonDocument::Compact);
}

QByteArray errorBodyFor(QByteArrayView path, const QString &message, const QString &type, const QString &code)
{
    if (path == "/v1/messages" || path.startsWith("/v1/messages/"))
        return anthropicErrorBody(message, type);
    return openAiErrorBody(message, type, code);
}

} // namespace route
