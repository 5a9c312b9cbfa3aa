#pragma once

#include <QByteArray>
#include <QString>

namespace route {

// OpenAI's error envelope, so SDKs show our text:
// {"error":{"message":"…","type":"…","code":…}}
QByteArray openAiErrorBody(const QString &message, const QString &type, const QString &code = QString());

} // namespace route
