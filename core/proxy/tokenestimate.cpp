#include "proxy/tokenestimate.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>

namespace route {

namespace TokenEstimate {

namespace {

constexpr int tokensPerImage = 1600; // Anthropic's figure for a ~1.15 megapixel image
constexpr int tokensPerMessage = 4; // role and framing

int ofText(const QString &text)
{
    int latin = 0;
    int other = 0;
    for (const QChar c : text)
        (c.unicode() < 0x0250 ? latin : other) += 1;
    return (latin + 3) / 4 + other;
}

int ofValue(const QJsonValue &v)
{
    switch (v.type()) {
    case QJsonValue::String: return ofText(v.toString());
    case QJsonValue::Array: {
        int n = 0;
        for (const QJsonValue &item : v.toArray())
            n += ofValue(item);
        return n;
    }
    case QJsonValue::Object: {
        const QJsonObject o = v.toObject();
        if (o.value(QLatin1String("type")).toString() == QLatin1String("image"))
            return tokensPerImage;
        int n = 0;
        for (auto it = o.begin(); it != o.end(); ++it)
            n += ofText(it.key()) / 2 + ofValue(it.value()); // keys of tool schemas count, a little
        return n;
    }
    case QJsonValue::Double: return 1;
    default: return 0;
    }
}

} // namespace

int messagesInput(const QByteArray &body)
{
    const QJsonObject request = QJsonDocument::fromJson(body).object();
    int n = ofValue(request.value(QLatin1String("system")));
    const QJsonArray messages = request.value(QLatin1String("messages")).toArray();
    for (const QJsonValue &m : messages)
        n += tokensPerMessage + ofValue(m.toObject().value(QLatin1String("content")));
    n += ofValue(request.value(QLatin1String("tools")));
    return qMax(1, n);
}

} // namespace TokenEstimate

} // namespace route
