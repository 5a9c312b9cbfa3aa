#include "convert/streamconverter.h"

#include <QJsonDocument>

namespace route {

QByteArray StreamConverter::feed(const QByteArray &chunk)
{
    QByteArray out;
    m_line += chunk;
    qsizetype start = 0;
    for (qsizetype eol = m_line.indexOf('\n'); eol >= 0; eol = m_line.indexOf('\n', start)) {
        QByteArray line = m_line.mid(start, eol - start).trimmed();
        start = eol + 1;
        if (!line.startsWith("data:"))
            continue;
        line = line.mid(5).trimmed();
        if (line == "[DONE]") {
            end(out);
            continue;
        }
        const QJsonDocument doc = QJsonDocument::fromJson(line);
        if (doc.isObject())
            onChunk(doc.object(), out);
    }
    m_line.remove(0, start);
    if (m_line.size() > 4 * 1024 * 1024)
        m_line.clear(); // not an event stream: nothing to convert
    return out;
}

QByteArray StreamConverter::finish()
{
    QByteArray out;
    if (!m_line.isEmpty())
        out = feed("\n");
    // A stream that said how it finished but not [DONE] (some servers) ended;
    // one that said neither was cut.
    if (!m_ended && m_finishSeen)
        end(out);
    return out;
}

void StreamConverter::end(QByteArray &out)
{
    if (m_ended)
        return;
    m_ended = true;
    onEnd(out);
}

} // namespace route
