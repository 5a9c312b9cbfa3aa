#pragma once

#include "http/httpheaders.h"

#include <QByteArray>
#include <QByteArrayView>

namespace route {

// One HTTP/1 head parser for both directions: the requests of clients and the
// responses of upstreams follow the same rules (RFC 9112). Pure: bytes in, a
// result out, no socket; table-tested (tst_headparser) and fuzzed.

// The start line and the fields of a request.
struct RequestHead
{
    QByteArray method;
    QByteArray target; // as sent: path and query
    QByteArray path; // still percent-encoded
    QByteArray query; // without '?'
    int versionMinor = 1;
    HttpHeaders headers;

    bool isHead() const { return method == "HEAD"; }
};

// The status line and the fields of a response.
struct ResponseHead
{
    int status = 0;
    QByteArray reason;
    int versionMinor = 1;
    HttpHeaders headers;
};

// Where the body after a head ends.
enum class BodyFraming {
    None, // no body (a request without length, HEAD, 1xx, 204, 304)
    Length, // Content-Length bytes
    Chunked, // Transfer-Encoding: chunked
    UntilClose, // a response without either: the end of the connection
};

// Why a head was refused. Each has one status (for requests) and one text.
enum class HeadError {
    None,
    TooLarge, // the head passed its limit
    BadStartLine,
    BadVersion, // HTTP/2 and others
    BadTarget,
    BadHeaderLine,
    BadTransferEncoding, // with a Content-Length as well, or in HTTP/1.0: ambiguous
    UnsupportedTransferEncoding, // anything but exactly `chunked`
    BadHost, // an HTTP/1.1 request without exactly one Host, or a Host that is no host
    ConflictingLength,
    BadLength,
    BodyTooLarge, // Content-Length above the limit
    BadExpect,
};

struct HeadLimits
{
    qsizetype maxHeadBytes = 64 * 1024;
    qint64 maxBodyBytes = -1; // < 0: no limit
};

// What a parse found. `consumed` bytes belong to the head (with the empty
// line, and for requests any empty lines before it); the body follows.
struct HeadResult
{
    enum class Status { NeedMore, Complete, Invalid };
    Status status = Status::NeedMore;
    HeadError error = HeadError::None;
    qsizetype consumed = 0;
    BodyFraming framing = BodyFraming::None;
    qint64 contentLength = 0; // with BodyFraming::Length
    bool keepAlive = true;
    bool expectContinue = false; // requests: `Expect: 100-continue`
    bool interim = false; // responses: 1xx other than 101; the real head follows

    bool isComplete() const { return status == Status::Complete; }
    bool isInvalid() const { return status == Status::Invalid; }
};

namespace HeadParser {

HeadResult parseRequest(QByteArrayView in, RequestHead &out, const HeadLimits &limits = {});
// `requestWasHead`: a response to HEAD has no body whatever it says.
HeadResult parseResponse(QByteArrayView in, ResponseHead &out, bool requestWasHead, const HeadLimits &limits = {});

// RFC 9110 5.6.2: a character of a token (a field name, a coding, a chunk
// extension's name).
bool isTokenChar(char c);
// RFC 9110 5.5: visible characters, spaces, tabs and obs-text; never a NUL,
// a CR or another control character (a smuggler's line break).
bool isFieldValue(QByteArrayView s);

// One field line, "name: value" (also a trailer line of a chunked body):
// a token, a colon, a value without NUL, CR, LF or other controls.
bool isFieldLine(QByteArrayView line, QByteArrayView *name, QByteArrayView *value);

// The status and the text a server answers a refused request head with.
int statusFor(HeadError error);
QByteArray messageFor(HeadError error, const HeadLimits &limits = {});

} // namespace HeadParser

} // namespace route
