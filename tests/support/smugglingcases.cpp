#include "smugglingcases.h"

namespace {

// A literal with the NUL bytes inside it: its whole length, not up to the
// first NUL (and no count by hand to get wrong).
template <size_t N>
QByteArray withNul(const char (&text)[N])
{
    return QByteArray(text, qsizetype(N - 1));
}

const QByteArray kBody = kSmugglingBody; // 13 bytes
const QByteArray kLine = "POST /v1/chat/completions HTTP/1.1\r\n";
const QByteArray kHost = "Host: 127.0.0.1\r\n";

// A chat request with EXTRA header lines (each ending in CRLF) and BODY as given.
QByteArray post(const QByteArray &extra, const QByteArray &body)
{
    return kLine + kHost + "Content-Type: application/json\r\n" + extra + "\r\n" + body;
}
QByteArray withLength(const QByteArray &extra = {})
{
    return post("Content-Length: 13\r\n" + extra, kBody);
}
QByteArray chunkedBody(const QByteArray &sizeLine = "d", const QByteArray &trailer = {})
{
    return sizeLine + "\r\n" + kBody + "\r\n0\r\n" + trailer + "\r\n";
}
QByteArray chunked(const QByteArray &te = "chunked", const QByteArray &body = chunkedBody())
{
    return post("Transfer-Encoding: " + te + "\r\n", body);
}
// A request hidden where a lenient parser would find it.
const QByteArray kHidden = "POST /v1/smuggled HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 13\r\n\r\n" + kBody;

} // namespace

QList<RequestCase> requestCases()
{
    QList<RequestCase> c;
    const auto ok = [&c](const char *name, const QByteArray &raw, int requests = 1) {
        c.append({name, raw, QList<int>(requests, 200)});
    };
    const auto no = [&c](const char *name, const QByteArray &raw, int status) { c.append({name, raw, {status}}); };

    // What well-behaved clients send: forwarded.
    ok("content-length", withLength());
    ok("chunked", chunked());
    ok("chunked, many chunks", chunked("chunked", "1\r\n{\r\nc\r\n\"model\":\"m\"}\r\n0\r\n\r\n"));
    ok("chunk size in capitals", chunked("chunked", chunkedBody("D")));
    ok("chunk size with leading zeros", chunked("chunked", chunkedBody("000d")));
    ok("chunk extension", chunked("chunked", chunkedBody("d;name=value")));
    ok("chunk extension, quoted", chunked("chunked", chunkedBody("d ; a=\"x;y\\\"z\" ;b")));
    ok("trailer", chunked("chunked", chunkedBody("d", "X-Trailer: 1\r\n")));
    ok("te in capitals", chunked("Chunked"));
    ok("te with spaces and a tab", post("Transfer-Encoding: \t chunked  \r\n", chunkedBody()));
    ok("two requests pipelined", withLength() + withLength(), 2);
    ok("empty lines before the request", "\r\n\r\n" + withLength());
    ok("host with port", kLine + "Host: 127.0.0.1:8888\r\nContent-Length: 13\r\n\r\n" + kBody);
    ok("host localhost", kLine + "Host: localhost\r\nContent-Length: 13\r\n\r\n" + kBody);
    ok("host ipv6", kLine + "Host: [::1]:8888\r\nContent-Length: 13\r\n\r\n" + kBody);
    ok("http/1.0 without host", "POST /v1/chat/completions HTTP/1.0\r\nContent-Length: 13\r\n\r\n" + kBody);
    ok("absolute form",
        "POST http://127.0.0.1/v1/chat/completions HTTP/1.1\r\n" + kHost + "Content-Length: 13\r\n\r\n" + kBody);
    ok("obs-text in a value", withLength("X-Name: caf\xc3\xa9\r\n"));
    const QByteArray carrier = "{\"model\":\"m\",\"x\":\"" + QByteArray(kHidden).replace("\r\n", "  ") + "\"}";
    ok("a request inside a body is data",
        post("Content-Length: " + QByteArray::number(carrier.size()) + "\r\n", carrier));

    // CL.TE and TE.CL: both framings at once.
    no("cl.te", post("Content-Length: 6\r\nTransfer-Encoding: chunked\r\n", "0\r\n\r\n" + kHidden), 400);
    no("te.cl", post("Transfer-Encoding: chunked\r\nContent-Length: 4\r\n", "5c\r\n" + kHidden + "\r\n0\r\n\r\n"), 400);
    no("te with content-length zero", post("Transfer-Encoding: chunked\r\nContent-Length: 0\r\n", chunkedBody()), 400);
    // TE.TE: codings that one parser reads as chunked and another not.
    no("te xchunked", chunked("xchunked"), 501);
    no("te chunked, identity", chunked("chunked, identity"), 501);
    no("te gzip, chunked", chunked("gzip, chunked"), 501);
    no("te identity", chunked("identity"), 501);
    no("te chunk", chunked("chunk"), 501);
    no("te quoted", chunked("\"chunked\""), 501);
    no("te with a parameter", chunked("chunked;q=1"), 501);
    no("te twice", post("Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n", chunkedBody()), 501);
    no("te chunked then identity", post("Transfer-Encoding: chunked\r\nTransfer-Encoding: identity\r\n", chunkedBody()),
        501);
    no("te space before colon", post("Transfer-Encoding : chunked\r\n", chunkedBody()), 400);
    no("te folded", post("Transfer-Encoding: x\r\n chunked\r\n", chunkedBody()), 400);
    no("te with nul", post(withNul("Transfer-Encoding: chu\0nked\r\n"), chunkedBody()), 400);
    no("te in http/1.0", "POST /v1/chat/completions HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n" + chunkedBody(),
        400);
    // Content-Length: one, digits only.
    no("content-length twice, equal", post("Content-Length: 13\r\nContent-Length: 13\r\n", kBody), 400);
    no("content-length twice, different", post("Content-Length: 13\r\nContent-Length: 6\r\n", kBody), 400);
    no("content-length list", post("Content-Length: 13, 13\r\n", kBody), 400);
    no("content-length signed", post("Content-Length: +13\r\n", kBody), 400);
    no("content-length negative", post("Content-Length: -1\r\n", kBody), 400);
    no("content-length hex", post("Content-Length: 0xd\r\n", kBody), 400);
    no("content-length with a space inside", post("Content-Length: 1 3\r\n", kBody), 400);
    no("content-length overflow", post("Content-Length: 99999999999999999999\r\n", kBody), 400);
    no("content-length empty", post("Content-Length:\r\n", kBody), 400);
    no("content-length past the limit", post("Content-Length: 999999999999\r\n", kBody), 413);
    // Line ends: CRLF only.
    no("bare lf everywhere", "POST /v1/chat/completions HTTP/1.1\nHost: 127.0.0.1\nContent-Length: 13\n\n" + kBody,
        400);
    no("bare lf after the request line",
        "POST /v1/chat/completions HTTP/1.1\n" + kHost + "Content-Length: 13\r\n\r\n" + kBody, 400);
    no("bare lf between fields", post("X-A: a\nContent-Length: 13\r\n", kBody), 400);
    no("bare lf hiding a length", post("X-A: a\nContent-Length: 6\r\nContent-Length: 13\r\n", kBody), 400);
    no("bare cr in a value", withLength("X-A: a\rb\r\n"), 400);
    no("bare cr as a line end", post("X-A: a\rContent-Length: 13\r\n", kBody), 400);
    no("cr cr lf", post("X-A: a\r\r\nContent-Length: 13\r\n", kBody), 400);
    no("bare cr in the request line", "POST /v1/chat/completions\r HTTP/1.1\r\n" + kHost + "\r\n", 400);
    // Characters that end a line for somebody.
    no("nul in a value", withLength(withNul("X-A: a\0b\r\n")), 400);
    no("nul in a name", withLength(withNul("X-\0A: b\r\n")), 400);
    no("nul in the target", withNul("POST /v1/chat\0/completions HTTP/1.1\r\n") + kHost + "\r\n", 400);
    no("control character in a value", withLength("X-A: a\x01z\r\n"), 400);
    no("del in a value", withLength("X-A: a\x7fz\r\n"), 400);
    no("non-ascii in the target", "POST /v1/chat/compl\xc3\xa9tions HTTP/1.1\r\n" + kHost + "\r\n", 400);
    // obs-fold and spaces around the name.
    no("obs-fold", withLength("X-A: a\r\n b\r\n"), 400);
    no("obs-fold with a tab", withLength("X-A: a\r\n\tb\r\n"), 400);
    no("folded first field", kLine + " X-A: a\r\n" + kHost + "Content-Length: 13\r\n\r\n" + kBody, 400);
    no("space before the colon", post("Content-Length : 13\r\n", kBody), 400);
    no("tab before the colon", post("Content-Length\t: 13\r\n", kBody), 400);
    no("no colon", withLength("X-A a\r\n"), 400);
    no("empty name", withLength(": a\r\n"), 400);
    // The request line.
    no("space before the method", " " + withLength(), 400);
    no("two spaces", "POST  /v1/chat/completions HTTP/1.1\r\n" + kHost + "\r\n", 400);
    no("tab as separator", "POST\t/v1/chat/completions HTTP/1.1\r\n" + kHost + "\r\n", 400);
    no("space after the version", "POST /v1/chat/completions HTTP/1.1 \r\n" + kHost + "\r\n", 400);
    no("lowercase version", "POST /v1/chat/completions http/1.1\r\n" + kHost + "\r\n", 400);
    no("http/2", "POST /v1/chat/completions HTTP/2.0\r\n" + kHost + "\r\n", 505);
    no("http/1.2", "POST /v1/chat/completions HTTP/1.2\r\n" + kHost + "\r\n", 505);
    no("relative target", "POST v1/chat/completions HTTP/1.1\r\n" + kHost + "\r\n", 400);
    // Host: exactly one, and a host.
    no("no host", kLine + "Content-Length: 13\r\n\r\n" + kBody, 400);
    no("two hosts", kLine + kHost + "Host: 127.0.0.2\r\nContent-Length: 13\r\n\r\n" + kBody, 400);
    no("host with userinfo", kLine + "Host: evil@127.0.0.1\r\nContent-Length: 13\r\n\r\n" + kBody, 400);
    no("host with a path", kLine + "Host: 127.0.0.1/x\r\nContent-Length: 13\r\n\r\n" + kBody, 400);
    no("host with a space", kLine + "Host: 127.0.0.1 x\r\nContent-Length: 13\r\n\r\n" + kBody, 400);
    // Chunk sizes and extensions.
    no("chunk size not hex", chunked("chunked", chunkedBody("z")), 400);
    no("chunk size 0x", chunked("chunked", chunkedBody("0xd")), 400);
    no("chunk size of 16 digits", chunked("chunked", chunkedBody("000000000000000d")), 400);
    no("chunk size overflow", chunked("chunked", chunkedBody("ffffffffffffffffd")), 400);
    no("chunk size with a leading space", chunked("chunked", chunkedBody(" d")), 400);
    no("chunk size negative", chunked("chunked", chunkedBody("-d")), 400);
    no("chunk size empty", chunked("chunked", chunkedBody("")), 400);
    no("chunk size ended by a bare lf", chunked("chunked", "d\n" + kBody + "\r\n0\r\n\r\n"), 400);
    no("chunk size past the limit", chunked("chunked", chunkedBody("fffffffffffff")), 413);
    no("chunk data longer than its size", chunked("chunked", "5\r\n" + kBody + "\r\n0\r\n\r\n"), 400);
    no("chunk extension with nul", chunked("chunked", chunkedBody(withNul("d;a\0b"))), 400);
    no("chunk extension with a bare cr", chunked("chunked", chunkedBody("d;a\rb")), 400);
    no("chunk extension without a name", chunked("chunked", chunkedBody("d;;")), 400);
    no("chunk extension, unclosed quote", chunked("chunked", chunkedBody("d;a=\"x")), 400);
    // Trailers are field lines.
    no("trailer with a bare lf", chunked("chunked", chunkedBody("d", "X-A: a\nX-B: b\r\n")), 400);
    no("trailer folded", chunked("chunked", chunkedBody("d", "X-A: a\r\n b\r\n")), 400);
    no("trailer without a colon", chunked("chunked", chunkedBody("d", "X-A a\r\n")), 400);
    no("trailer with nul", chunked("chunked", chunkedBody("d", withNul("X-A: \0\r\n"))), 400);
    // Other refusals.
    no("odd expect", withLength("Expect: 200-ok\r\n"), 417);
    no("head too large", withLength("X-Big: " + QByteArray(70 * 1024, 'a') + "\r\n"), 431);
    // Pipelining after an error: nothing after the refusal is read.
    no("bad first, good second", post("Content-Length : 13\r\n", kBody) + withLength(), 400);
    c.append({"good, bad, good", withLength() + post("Content-Length: 13, 13\r\n", kBody) + withLength(), {200, 400}});
    no("cl.te hiding a request after a zero chunk",
        post("Content-Length: 5\r\nTransfer-Encoding: chunked\r\n", "0\r\n\r\n" + kHidden), 400);
    no("te.te hiding a request in a chunk",
        post("Transfer-Encoding: chunked\r\nTransfer-Encoding: x\r\n", "0\r\n\r\n" + kHidden), 501);
    no("duplicate lengths hiding a request", post("Content-Length: 0\r\nContent-Length: 13\r\n", kHidden), 400);
    no("bare lf hiding a request", post("X-A: a\nTransfer-Encoding: chunked\r\n", "0\r\n\r\n" + kHidden), 400);
    return c;
}

QList<ResponseCase> responseCases()
{
    QList<ResponseCase> c;
    const QByteArray body = "{\"choices\":[]}"; // 14 bytes
    const QByteArray line = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n";
    const auto ok = [&c, &body](const char *name, const QByteArray &raw) {
        c.append({name, raw, ResponseCase::Fate::Taken, body});
    };
    const auto no = [&c](const char *name, const QByteArray &raw) {
        c.append({name, raw, ResponseCase::Fate::FailedAttempt, {}});
    };
    const auto cut = [&c](const char *name, const QByteArray &raw) {
        c.append({name, raw, ResponseCase::Fate::Cut, {}});
    };
    const QByteArray chunks = "e\r\n" + body + "\r\n0\r\n\r\n";

    ok("content-length", line + "Content-Length: 14\r\n\r\n" + body);
    ok("chunked", line + "Transfer-Encoding: chunked\r\n\r\n" + chunks);
    ok("chunked in pieces", line + "Transfer-Encoding: chunked\r\n\r\n1\r\n{\r\nd\r\n\"choices\":[]}\r\n0\r\n\r\n");
    ok("chunk extension", line + "Transfer-Encoding: chunked\r\n\r\ne;a=b\r\n" + body + "\r\n0\r\n\r\n");
    ok("trailer", line + "Transfer-Encoding: chunked\r\n\r\ne\r\n" + body + "\r\n0\r\nX-T: 1\r\n\r\n");
    ok("until close", line + "\r\n" + body);
    ok("empty reason", "HTTP/1.1 200 \r\nContent-Length: 14\r\n\r\n" + body);
    ok("no reason", "HTTP/1.1 200\r\nContent-Length: 14\r\n\r\n" + body);
    ok("100 continue first", "HTTP/1.1 100 Continue\r\n\r\n" + line + "Content-Length: 14\r\n\r\n" + body);
    ok("te in capitals", line + "Transfer-Encoding: CHUNKED\r\n\r\n" + chunks);
    ok("length with spaces", line + "Content-Length:   14  \r\n\r\n" + body);
    ok("http/1.0", "HTTP/1.0 200 OK\r\nContent-Length: 14\r\n\r\n" + body);
    ok("obs-text in a value", line + "X-Name: caf\xc3\xa9\r\nContent-Length: 14\r\n\r\n" + body);

    no("content-length twice, equal", line + "Content-Length: 14\r\nContent-Length: 14\r\n\r\n" + body);
    no("content-length twice, different", line + "Content-Length: 14\r\nContent-Length: 4\r\n\r\n" + body);
    no("content-length 14x", line + "Content-Length: 14x\r\n\r\n" + body);
    no("content-length negative", line + "Content-Length: -1\r\n\r\n" + body);
    no("content-length list", line + "Content-Length: 14, 14\r\n\r\n" + body);
    cut("content-length longer than the body", line + "Content-Length: 40\r\n\r\n" + body);
    no("te with content-length", line + "Transfer-Encoding: chunked\r\nContent-Length: 14\r\n\r\n" + chunks);
    no("te gzip, chunked", line + "Transfer-Encoding: gzip, chunked\r\n\r\n" + chunks);
    no("te xchunked", line + "Transfer-Encoding: xchunked\r\n\r\n" + chunks);
    no("te twice", line + "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n" + chunks);
    no("te in http/1.0", "HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + chunks);
    no("obs-fold", line + "X-A: a\r\n b\r\nContent-Length: 14\r\n\r\n" + body);
    no("space before the colon", line + "Content-Length : 14\r\n\r\n" + body);
    no("bare lf line ends", "HTTP/1.1 200 OK\nContent-Length: 14\n\n" + body);
    no("bare lf between fields", line + "X-A: a\nContent-Length: 14\r\n\r\n" + body);
    no("bare cr in a value", line + "X-A: a\rb\r\nContent-Length: 14\r\n\r\n" + body);
    no("nul in a value", line + withNul("X-A: a\0b\r\n") + "Content-Length: 14\r\n\r\n" + body);
    cut("chunk size not hex", line + "Transfer-Encoding: chunked\r\n\r\nz\r\n" + body + "\r\n0\r\n\r\n");
    cut("chunk size of 16 digits",
        line + "Transfer-Encoding: chunked\r\n\r\n000000000000000e\r\n" + body + "\r\n0\r\n\r\n");
    cut("chunk size with a leading space", line + "Transfer-Encoding: chunked\r\n\r\n e\r\n" + body + "\r\n0\r\n\r\n");
    cut("chunk without its crlf", line + "Transfer-Encoding: chunked\r\n\r\ne\r\n" + body + "0\r\n\r\n");
    cut("chunk extension with a control",
        line + "Transfer-Encoding: chunked\r\n\r\ne;\x01\r\n" + body + "\r\n0\r\n\r\n");
    cut("trailer with a bare lf",
        line + "Transfer-Encoding: chunked\r\n\r\ne\r\n" + body + "\r\n0\r\nX-A: a\nX-B: b\r\n\r\n");
    cut("chunked cut short", line + "Transfer-Encoding: chunked\r\n\r\ne\r\n" + body + "\r\n");
    no("space before the version", " HTTP/1.1 200 OK\r\nContent-Length: 14\r\n\r\n" + body);
    no("four-digit status", "HTTP/1.1 2000 OK\r\nContent-Length: 14\r\n\r\n" + body);
    no("http/2", "HTTP/2 200\r\nContent-Length: 14\r\n\r\n" + body);
    no("control in the reason", "HTTP/1.1 200 O\x01K\r\nContent-Length: 14\r\n\r\n" + body);
    return c;
}
