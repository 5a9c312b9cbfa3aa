#pragma once

#include <QByteArray>
#include <QJsonObject>

namespace route {

// A Chat Completions event stream turned, as it arrives, into another API's
// stream (Messages', Responses'). This part reads the chat stream's lines
// (the one incomplete line is all it keeps); a subclass writes its API's
// events for each chunk and for the end. The end is written only when the
// chat stream came to it ([DONE], or a finish_reason before the upstream
// closed): a cut stream stays cut.
class StreamConverter
{
public:
    virtual ~StreamConverter() = default;
    QByteArray feed(const QByteArray &chunk);
    QByteArray finish();
    bool ended() const { return m_ended; }

protected:
    // One `data:` object of the chat stream.
    virtual void onChunk(const QJsonObject &chunk, QByteArray &out) = 0;
    // The closing events, once.
    virtual void onEnd(QByteArray &out) = 0;
    // The chat stream said how it finished (a finish_reason).
    void noteFinished() { m_finishSeen = true; }

private:
    void end(QByteArray &out);

    QByteArray m_line;
    bool m_ended = false;
    bool m_finishSeen = false;
};

} // namespace route
