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

} // namespace route
