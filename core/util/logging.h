#pragma once

#include <QLoggingCategory>

namespace route {

// One category per subsystem; switch with QT_LOGGING_RULES="route.proxy.debug=true".
Q_DECLARE_LOGGING_CATEGORY(lcEngine)
Q_DECLARE_LOGGING_CATEGORY(lcHttp)
Q_DECLARE_LOGGING_CATEGORY(lcProxy)
Q_DECLARE_LOGGING_CATEGORY(lcStore)
Q_DECLARE_LOGGING_CATEGORY(lcAdmin)
Q_DECLARE_LOGGING_CATEGORY(lcCatalog)
Q_DECLARE_LOGGING_CATEGORY(lcRecords)
Q_DECLARE_LOGGING_CATEGORY(lcRequests)

namespace RequestLog {
// Sets the message pattern ("category: message") and installs a message
// handler that writes the one-line-per-request messages
// (route.requests at info level) in batches: at most every 100 ms, or at
// 16 KiB, instead of one write call per request on the request path.
// Anything else is written at once, after the batch, so the order holds.
void installBatching();
// Writes the batch now (also called at exit).
void flush();
// One route.requests line at info level, as qCInfo would write it, minus
// the printf formatting qCInfo goes through. The caller checks the level.
void info(const QString &line);
} // namespace RequestLog

} // namespace route
