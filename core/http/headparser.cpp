#include "http/headparser.h"

#include "util/bytes.h"

namespace route {

namespace HeadParser {

bool isTokenChar(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '!' || c == '#'
        || c == '$' || c == '%' || c == '&' || c == '\'' || c == '*' || c == '+' || c == '-' || c == '.' || c == '^'
        || c == '_' || c == '`' || c == '|' || c == '~';
}

// RFC 9110 5.5: visible characters, spaces, tabs and obs-text; never a NUL,
// a CR or another control character (a smuggler's line break).
bool isFieldValue(QByteArrayView s)
{
    for (char c : s) {
        const auto u = static_cast<unsigned char>(c);
        if ((u < 0x20 && u != '\t') || u == 0x7f)
            return false;
    }
    return true;
}

namespace {

bool isToken(QByteArrayView s)
{
    if (s.isEmpty())
        return false;
    for (char c : s)
        if (!isTokenChar(c))
            return false;
    return true;
}

QByteArrayView trimmedOws(QByteArrayView s)
{
    while (!s.isEmpty() && (s.front() == ' ' || s.front() == '\t'))
        s = s.sliced(1);
    while (!s.isEmpty() && (s.back() == ' ' || s.back() == '\t'))
        s.chop(1);
    return s;
}

// Digits only: no sign, no spaces inside, no overflow.
bool parseLength(QByteArrayView s, qint64 *out)
{
    s = trimmedOws(s);
    if (s.isEmpty() || s.size() > 18)
        return false;
    qint64 v = 0;
    for (char c : s) {
        if (c < '0' || c > '9')
            return false;
        v = v * 10 + (c - '0');
    }
    *out = v;
    return true;
}

HeadResult invalid(HeadError error)
{
    HeadResult r;
    r.status = HeadResult::Status::Invalid;
    r.error = error;
    return r;
}

// A LF without its CR, or a CR followed by anything but LF.
bool hasBareLineEnd(QByteArrayView in)
{
    for (qsizetype i = 0; i < in.size(); ++i) {
        if (in[i] == '\n' && (i == 0 || in[i - 1] != '\r'))
            return true;
        if (in[i] == '\r' && i + 1 < in.size() && in[i + 1] != '\n')
            return true;
    }
    return false;
}

// Where the head ends: the index of its empty line, or -1 (then `result`
// says whether to wait or to give up).
qsizetype findEnd(QByteArrayView in, const HeadLimits &limits, HeadResult *result)
{
    const qsizetype end = Bytes::indexOf(in, "\r\n\r\n");
    if ((end < 0 && in.size() > limits.maxHeadBytes) || end > limits.maxHeadBytes) {
        *result = invalid(HeadError::TooLarge);
        return -1;
    }
    if (end < 0 && hasBareLineEnd(in)) {
        // A head of bare LFs never shows its CRLF CRLF: refused now rather
        // than waited for until the limit.
        *result = invalid(HeadError::BadHeaderLine);
        return -1;
    }
    return end;
}

} // namespace

bool isFieldLine(QByteArrayView line, QByteArrayView *name, QByteArrayView *value)
{
    const qsizetype colon = Bytes::indexOf(line, ':');
    if (colon <= 0 || !isToken(line.first(colon)))
        return false;
    *name = line.first(colon);
    *value = trimmedOws(line.sliced(colon + 1));
    return isFieldValue(*value);
}

namespace {

// The field lines after the start line, each "name: value", each ended by
// CRLF: a bare LF or CR stays inside a line and fails it (RFC 9112 2.2 lets
// a recipient take a bare LF as a line end; a proxy that does, in front of
// a server that does not, is how requests are smuggled). No obs-fold (a
// line that starts with a space), no space before the colon.
bool parseFields(QByteArrayView block, HttpHeaders &headers)
{
    headers.reserve(16);
    while (!block.isEmpty()) {
        const qsizetype end = Bytes::indexOf(block, "\r\n");
        const QByteArrayView line = end < 0 ? block : block.first(end);
        block = end < 0 ? QByteArrayView() : block.sliced(end + 2);
        QByteArrayView name, value;
        if (!isFieldLine(line, &name, &value))
            return false;
        headers.appendCopy(name, value);
    }
    return true;
}

// Content-Length or chunked, the same for both directions; every length
// header must say the same, and chunked excludes a length.
HeadError readFraming(const HttpHeaders &headers, int versionMinor, HeadResult &r)
{
    // SPEC §13: exactly `chunked`, once. `gzip, chunked`, `xchunked` or a
    // second header are how request smuggling starts.
    int codings = 0;
    bool chunked = false;
    for (const auto &[name, value] : headers) {
        if (!HttpHeaders::nameEquals(name, "transfer-encoding"))
            continue;
        ++codings;
        chunked = HttpHeaders::nameEquals(trimmedOws(value), "chunked");
    }
    if (codings > 0) {
        // RFC 9112 6.1: Transfer-Encoding in an HTTP/1.0 message is faulty framing.
        if (headers.contains("content-length") || versionMinor == 0)
            return HeadError::BadTransferEncoding;
        if (codings > 1 || !chunked)
            return HeadError::UnsupportedTransferEncoding;
        r.framing = BodyFraming::Chunked;
        return HeadError::None;
    }
    // One Content-Length only: RFC 9110 lets a recipient take identical
    // copies, but whoever sent two is not a client we need to understand,
    // and a proxy behind us may read them differently.
    QByteArrayView lengthValue;
    bool seen = false;
    for (const auto &[name, value] : headers) {
        if (!HttpHeaders::nameEquals(name, "content-length"))
            continue;
        if (seen)
            return HeadError::ConflictingLength;
        lengthValue = value;
        seen = true;
    }
    if (seen) {
        if (!parseLength(lengthValue, &r.contentLength))
            return HeadError::BadLength;
        r.framing = BodyFraming::Length;
    }
    return HeadError::None;
}

// HTTP/1.1 keeps the connection unless told to close; 1.0 closes unless told to keep it.
bool keepsAlive(int versionMinor, const HttpHeaders &headers)
{
    return versionMinor >= 1 ? !headers.hasToken("connection", "close") : headers.hasToken("connection", "keep-alive");
}

// RFC 9112 3.2: a request target is visible ASCII; a control character,
// a space or DEL in it is a line that some other parser splits elsewhere.
bool isTargetText(QByteArrayView s)
{
    for (char c : s) {
        const auto u = static_cast<unsigned char>(c);
        if (u <= 0x20 || u >= 0x7f)
            return false;
    }
    return true;
}

// RFC 9110 7.2: Host is uri-host [":" port]; nothing that ends an authority
// early (a '/', '@', '?', '#', '\\' or a space) and nothing percent-decoded.
bool isHostValue(QByteArrayView s)
{
    for (char c : s) {
        const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.'
            || c == '-' || c == '_' || c == '~' || c == ':' || c == '[' || c == ']' || c == '!' || c == '$' || c == '&'
            || c == '\'' || c == '(' || c == ')' || c == '*' || c == '+' || c == ',' || c == ';' || c == '=';
        if (!ok)
            return false;
    }
    return true;
}

HeadError parseRequestLine(QByteArrayView line, RequestHead &out)
{
    // "METHOD SP target SP HTTP/1.x", nothing before, between or after.
    const qsizetype sp1 = Bytes::indexOf(line, ' ');
    const qsizetype sp2 = sp1 < 0 ? -1 : Bytes::indexOf(line, ' ', sp1 + 1);
    if (sp1 <= 0 || sp2 < 0 || Bytes::indexOf(line, ' ', sp2 + 1) >= 0 || sp2 == sp1 + 1 || !isToken(line.first(sp1)))
        return HeadError::BadStartLine;
    out.method = line.first(sp1).toByteArray();
    if (!isTargetText(line.sliced(sp1 + 1, sp2 - sp1 - 1)))
        return HeadError::BadTarget;
    out.target = line.sliced(sp1 + 1, sp2 - sp1 - 1).toByteArray();
    const QByteArrayView version = line.sliced(sp2 + 1);
    if (version == "HTTP/1.1")
        out.versionMinor = 1;
    else if (version == "HTTP/1.0")
        out.versionMinor = 0;
    else
        return version.startsWith("HTTP/") ? HeadError::BadVersion : HeadError::BadStartLine;

    QByteArray target = out.target;
    if (target.startsWith("http://") || target.startsWith("https://")) {
        // absolute-form: keep only the path and query
        const qsizetype slash = target.indexOf('/', target.indexOf("//") + 2);
        target = slash < 0 ? QByteArray("/") : target.mid(slash);
    }
    if (!target.startsWith('/') && !(target == "*" && out.method == "OPTIONS"))
        return HeadError::BadTarget;
    const qsizetype q = target.indexOf('?');
    out.path = q < 0 ? target : target.left(q);
    out.query = q < 0 ? QByteArray() : target.mid(q + 1);
    return HeadError::None;
}

HeadError parseStatusLine(QByteArrayView line, ResponseHead &out)
{
    // "HTTP/1.1 200 OK": a version, exactly three digits, a reason that may be empty.
    if (line.size() < 12 || !line.startsWith("HTTP/1.") || line[8] != ' ' || (line.size() > 12 && line[12] != ' '))
        return HeadError::BadStartLine;
    if (line[7] != '0' && line[7] != '1')
        return HeadError::BadVersion;
    out.versionMinor = line[7] - '0';
    int status = 0;
    for (char c : line.sliced(9, 3)) {
        if (c < '0' || c > '9')
            return HeadError::BadStartLine;
        status = status * 10 + (c - '0');
    }
    if (status < 100)
        return HeadError::BadStartLine;
    out.status = status;
    out.reason = line.size() > 13 ? line.sliced(13).toByteArray() : QByteArray();
    if (!isFieldValue(out.reason)) // a reason phrase has a field value's characters
        return HeadError::BadStartLine;
    return HeadError::None;
}

// Splits the head at its first CRLF; `rest` is the field block.
QByteArrayView startLine(QByteArrayView head, QByteArrayView *rest)
{
    const qsizetype firstEnd = Bytes::indexOf(head, "\r\n");
    *rest = firstEnd < 0 ? QByteArrayView() : head.sliced(firstEnd + 2);
    return head.first(firstEnd < 0 ? head.size() : firstEnd);
}

} // namespace

HeadResult parseRequest(QByteArrayView in, RequestHead &out, const HeadLimits &limits)
{
    // RFC 9112 2.2: empty lines before a request line are ignored.
    qsizetype skipped = 0;
    while (in.sliced(skipped).startsWith("\r\n"))
        skipped += 2;
    in = in.sliced(skipped);

    HeadResult r;
    const qsizetype end = findEnd(in, limits, &r);
    if (end < 0)
        return r;
    QByteArrayView fields;
    const QByteArrayView line = startLine(in.first(end), &fields);
    out = RequestHead();
    if (const HeadError e = parseRequestLine(line, out); e != HeadError::None)
        return invalid(e);
    if (!parseFields(fields, out.headers))
        return invalid(HeadError::BadHeaderLine);
    if (const HeadError e = readFraming(out.headers, out.versionMinor, r); e != HeadError::None)
        return invalid(e);
    if (r.framing == BodyFraming::Length && r.contentLength == 0)
        r.framing = BodyFraming::None;
    if (limits.maxBodyBytes >= 0 && r.framing == BodyFraming::Length && r.contentLength > limits.maxBodyBytes)
        return invalid(HeadError::BodyTooLarge);
    const QByteArray expect = out.headers.value("expect");
    if (!expect.isEmpty()) {
        if (!HttpHeaders::nameEquals(expect.trimmed(), "100-continue"))
            return invalid(HeadError::BadExpect);
        r.expectContinue = true;
    }
    int hosts = 0;
    for (const auto &[name, value] : out.headers) {
        if (!HttpHeaders::nameEquals(name, "host"))
            continue;
        ++hosts;
        if (!isHostValue(value))
            return invalid(HeadError::BadHost);
    }
    if (hosts > 1 || (hosts == 0 && out.versionMinor >= 1))
        return invalid(HeadError::BadHost);
    r.keepAlive = keepsAlive(out.versionMinor, out.headers);
    r.status = HeadResult::Status::Complete;
    r.consumed = skipped + end + 4;
    return r;
}

HeadResult parseResponse(QByteArrayView in, ResponseHead &out, bool requestWasHead, const HeadLimits &limits)
{
    HeadResult r;
    const qsizetype end = findEnd(in, limits, &r);
    if (end < 0)
        return r;
    QByteArrayView fields;
    const QByteArrayView line = startLine(in.first(end), &fields);
    out = ResponseHead();
    if (const HeadError e = parseStatusLine(line, out); e != HeadError::None)
        return invalid(e);
    if (!parseFields(fields, out.headers))
        return invalid(HeadError::BadHeaderLine);
    r.status = HeadResult::Status::Complete;
    r.consumed = end + 4;
    if (out.status < 200 && out.status != 101) {
        r.interim = true; // 100 Continue and the like: the real head follows
        return r;
    }
    if (const HeadError e = readFraming(out.headers, out.versionMinor, r); e != HeadError::None)
        return invalid(e);
    r.keepAlive = keepsAlive(out.versionMinor, out.headers);
    // RFC 9112 6.3: these never have a body, whatever their headers say.
    if (requestWasHead || out.status < 200 || out.status == 204 || out.status == 304) {
        r.framing = BodyFraming::None;
    } else if (r.framing == BodyFraming::None) {
        r.framing = BodyFraming::UntilClose;
        r.keepAlive = false;
    }
    return r;
}

int statusFor(HeadError error)
{
    switch (error) {
    case HeadError::None: return 200;
    case HeadError::TooLarge: return 431;
    case HeadError::BadVersion: return 505;
    case HeadError::BodyTooLarge: return 413;
    case HeadError::BadExpect: return 417;
    case HeadError::UnsupportedTransferEncoding: return 501;
    case HeadError::BadHost:
    case HeadError::BadStartLine:
    case HeadError::BadTarget:
    case HeadError::BadHeaderLine:
    case HeadError::BadTransferEncoding:
    case HeadError::ConflictingLength:
    case HeadError::BadLength: return 400;
    }
    return 400;
}

QByteArray messageFor(HeadError error, const HeadLimits &limits)
{
    switch (error) {
    case HeadError::None: return QByteArray();
    case HeadError::TooLarge: return QByteArrayLiteral("request headers are too large");
    case HeadError::BadStartLine: return QByteArrayLiteral("malformed request line");
    case HeadError::BadVersion: return QByteArrayLiteral("unsupported HTTP version");
    case HeadError::BadTarget: return QByteArrayLiteral("malformed request target");
    case HeadError::BadHeaderLine: return QByteArrayLiteral("malformed header line");
    case HeadError::BadTransferEncoding:
        return QByteArrayLiteral("Transfer-Encoding together with Content-Length, or in an HTTP/1.0 message");
    case HeadError::UnsupportedTransferEncoding: return QByteArrayLiteral("unsupported transfer encoding");
    case HeadError::BadHost: return QByteArrayLiteral("an HTTP/1.1 request needs exactly one valid Host header");
    case HeadError::ConflictingLength: return QByteArrayLiteral("conflicting Content-Length headers");
    case HeadError::BadLength: return QByteArrayLiteral("malformed Content-Length");
    case HeadError::BodyTooLarge:
        return "request body is larger than the limit of " + QByteArray::number(limits.maxBodyBytes) + " bytes";
    case HeadError::BadExpect: return QByteArrayLiteral("unsupported Expect header");
    }
    return QByteArray();
}

} // namespace HeadParser

} // namespace route
