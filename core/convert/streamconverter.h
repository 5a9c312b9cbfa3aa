#pragma once

#include <QByteArray>

namespace route {

// A Chat Completions event stream turned, as it arrives, into another API's
// stream (Messages', Responses'). finish() writes the closing events only
// when the chat stream came to its end: a cut stream stays cut.
class StreamConverter
{
public:
    virtual ~StreamConverter() = default;
    virtual QByteArray feed(const QByteArray &chunk) = 0;
    virtual QByteArray finish() = 0;
    virtual bool ended() const = 0;
};

} // namespace route
