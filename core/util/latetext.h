#pragma once

#include <QMutex>
#include <QString>

namespace route {

// A text that arrives later, from another thread: the name of the program
// behind a connection, found off the request path (SPEC §11). Readers get
// an empty text until it is there.
class LateText
{
public:
    void set(const QString &text)
    {
        QMutexLocker lock(&m_mutex);
        m_text = text;
    }
    QString value() const
    {
        QMutexLocker lock(&m_mutex);
        return m_text;
    }

private:
    mutable QMutex m_mutex;
    QString m_text;
};

} // namespace route
