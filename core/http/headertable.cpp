#include "http/headertable.h"

#include "http/httpheaders.h"

#include <array>
#include <cstring>
#include <vector>

namespace route {

namespace HeaderTable {
namespace {

struct Known
{
    QByteArrayView canonical;
    unsigned properties;
};

// Every name the proxy treats specially, and the names nearly every request
// and response carries (interned, properties 0).
constexpr Known knownNames[] = {
    {"Connection", HopByHop | Framing},
    {"Keep-Alive", HopByHop | Framing},
    {"Transfer-Encoding", HopByHop | Framing},
    {"Content-Length", Framing},
    {"Proxy-Authenticate", HopByHop},
    {"Proxy-Authorization", HopByHop},
    {"Proxy-Connection", HopByHop},
    {"TE", HopByHop},
    {"Trailer", HopByHop},
    {"Trailers", HopByHop},
    {"Upgrade", HopByHop},
    {"Host", ClientHop},
    {"Authorization", ClientHop},
    {"Expect", ClientHop},
    {"X-Api-Key", ClientHop},
    {"Anthropic-Version", 0},
    {"Anthropic-Beta", 0},
    {"User-Agent", 0},
    {"Accept", 0},
    {"Content-Type", 0},
    {"Accept-Encoding", 0},
    {"Date", 0},
    {"Cache-Control", 0},
    {"Server", 0},
    {"X-Request-Id", 0},
    {"Openai-Organization", 0},
    {"X-Stainless-Lang", 0},
};

// Values seen on nearly every message, interned like the names.
constexpr QByteArrayView knownValues[]
    = {"application/json", "application/json; charset=utf-8", "text/event-stream", "text/event-stream; charset=utf-8",
        "*/*", "chunked", "close", "keep-alive", "no-cache", "identity", "gzip, deflate", "gzip, deflate, br", "js"};

constexpr qsizetype maxLength = 40;

// Raw data over storage that lives as long as the program: a copy of the
// result shares it without touching a reference count.
QByteArray staticBytes(QByteArrayView s)
{
    return QByteArray::fromRawData(s.data(), s.size());
}

QByteArray lowered(QByteArrayView s)
{
    static std::vector<QByteArray> storage; // filled once, under the index's static init
    QByteArray out = s.toByteArray();
    for (char &c : out)
        if (c >= 'A' && c <= 'Z')
            c = char(c + ('a' - 'A'));
    storage.push_back(out);
    return staticBytes(storage.back());
}

struct Entry
{
    QByteArray bytes; // one spelling
    unsigned properties;
};

// By length: most lengths hold one entry or none, so a lookup is a compare or two.
using Index = std::array<std::vector<Entry>, maxLength>;

const Index &index()
{
    static const Index built = [] {
        Index idx;
        for (const Known &k : knownNames) {
            idx[size_t(k.canonical.size())].push_back({staticBytes(k.canonical), k.properties});
            const QByteArray lower = lowered(k.canonical);
            if (lower != k.canonical)
                idx[size_t(lower.size())].push_back({lower, k.properties});
        }
        for (QByteArrayView v : knownValues)
            idx[size_t(v.size())].push_back({staticBytes(v), 0});
        return idx;
    }();
    return built;
}

} // namespace

unsigned properties(QByteArrayView name)
{
    if (name.size() >= maxLength)
        return 0;
    for (const Entry &e : index()[size_t(name.size())])
        if (e.properties != 0 && HttpHeaders::nameEquals(e.bytes, name))
            return e.properties;
    return 0;
}

QByteArray interned(QByteArrayView bytes)
{
    if (bytes.size() < maxLength)
        for (const Entry &e : index()[size_t(bytes.size())])
            if (std::memcmp(e.bytes.constData(), bytes.data(), size_t(bytes.size())) == 0)
                return e.bytes;
    return bytes.toByteArray();
}

} // namespace HeaderTable

} // namespace route
