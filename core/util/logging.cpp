#include "util/logging.h"

#include <QCoreApplication>
#include <QMutex>
#include <QTimer>

#include <cerrno>

#include <unistd.h>

namespace route {

Q_LOGGING_CATEGORY(lcEngine, "route.engine", QtInfoMsg)
Q_LOGGING_CATEGORY(lcHttp, "route.http", QtWarningMsg)
Q_LOGGING_CATEGORY(lcProxy, "route.proxy", QtInfoMsg)
Q_LOGGING_CATEGORY(lcStore, "route.store", QtInfoMsg)
Q_LOGGING_CATEGORY(lcAdmin, "route.admin", QtInfoMsg)
Q_LOGGING_CATEGORY(lcCatalog, "route.catalog", QtInfoMsg)
Q_LOGGING_CATEGORY(lcRecords, "route.records", QtInfoMsg)
// One line per proxied request; QT_LOGGING_RULES="route.requests.info=false" silences it.
Q_LOGGING_CATEGORY(lcRequests, "route.requests", QtInfoMsg)

namespace {

constexpr qsizetype batchBytes = 16 * 1024;
constexpr int batchDelayMs = 100;

QtMessageHandler g_previous = nullptr;
bool g_ownPattern = false; // no QT_MESSAGE_PATTERN overrides ours
QBasicMutex g_mutex;
QByteArray g_batch; // guarded by g_mutex

void writeAll(const QByteArray &bytes)
{
    qsizetype done = 0;
    while (done < bytes.size()) {
        const ssize_t n = ::write(STDERR_FILENO, bytes.constData() + done, size_t(bytes.size() - done));
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return; // nowhere to write: drop, as Qt's handler would
        done += n;
    }
}

void scheduleFlush()
{
    // On the main thread, whose loop outlives the workers; once per batch.
    if (QCoreApplication *app = QCoreApplication::instance())
        QMetaObject::invokeMethod(
            app, [] { QTimer::singleShot(batchDelayMs, Qt::CoarseTimer, RequestLog::flush); }, Qt::QueuedConnection);
}

void handleMessage(QtMsgType type, const QMessageLogContext &context, const QString &message)
{
    const bool requestLine
        = type == QtInfoMsg && context.category && qstrcmp(context.category, lcRequests().categoryName()) == 0;
    if (!requestLine) {
        RequestLog::flush();
        g_previous(type, context, message);
        return;
    }
    QByteArray line;
    if (g_ownPattern) {
        // The pattern set in installBatching(), written out directly:
        // qFormatLogMessage costs more than building the message.
        const QByteArray text = message.toUtf8();
        const qsizetype categoryLength = qsizetype(qstrlen(context.category));
        line.reserve(categoryLength + 3 + text.size());
        line.append(context.category, categoryLength).append(": ", 2).append(text).append('\n');
    } else {
        line = qFormatLogMessage(type, context, message).toLocal8Bit() + '\n';
    }
    QByteArray full;
    bool first = false;
    {
        QMutexLocker lock(&g_mutex);
        first = g_batch.isEmpty();
        g_batch += line;
        if (g_batch.size() >= batchBytes)
            full.swap(g_batch);
    }
    if (!full.isEmpty())
        writeAll(full);
    else if (first)
        scheduleFlush();
}

} // namespace

namespace RequestLog {

void installBatching()
{
    // "route.proxy: upstream 3 failed: …"; QT_MESSAGE_PATTERN still wins.
    qSetMessagePattern(QStringLiteral("%{if-category}%{category}: %{endif}%{message}"));
    g_ownPattern = !qEnvironmentVariableIsSet("QT_MESSAGE_PATTERN");
    g_previous = qInstallMessageHandler(handleMessage);
    qAddPostRoutine(flush);
}

void info(const QString &line)
{
    if (!g_previous) { // batching is not installed: whatever handler there is decides
        qCInfo(lcRequests, "%ls", qUtf16Printable(line));
        return;
    }
    const QMessageLogContext context(nullptr, 0, nullptr, lcRequests().categoryName());
    handleMessage(QtInfoMsg, context, line);
}

void flush()
{
    QByteArray batch;
    {
        QMutexLocker lock(&g_mutex);
        batch.swap(g_batch);
    }
    if (!batch.isEmpty())
        writeAll(batch);
}

} // namespace RequestLog

} // namespace route
