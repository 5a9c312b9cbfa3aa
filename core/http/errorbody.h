#pragma once

#include <QByteArray>
#include <QString>

namespace route {

// OpenAI's error envelope, so SDKs show our text:
// {"error":{"message":"…","type":"…","code":…}}
QByteArray openAiErrorBody(const QString &message, const QString &type, const QString &code = QString());

// Anthropic's, for /v1/messages*: {"type":"error","error":{"type":"…","message":"…"}}.
// `type` is one of ours (OpenAI's words), mapped to Anthropic's.
QByteArray anthropicErrorBody(const QString &message, const QString &type);

// The envelope a client of PATH can parse: Anthropic's under /v1/messages, OpenAI's elsewhere.
QByteArray errorBodyFor(
    QByteArrayView path, const QString &message, const QString &type, const QString &code = QString());

} // namespace route
