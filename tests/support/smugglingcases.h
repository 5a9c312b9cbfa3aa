#pragma once

#include <QByteArray>
#include <QList>

// SPEC §13's strict HTTP/1.1, as one table used twice: tst_smuggling checks
// the parser's verdict on each case, tst_abuse sends each to the running
// proxy and watches what reaches the upstream. The smuggling classes are
// there by name: CL.TE, TE.CL, TE.TE with odd spellings, duplicate lengths,
// bare LF and CR, obs-fold, a space before the colon, NUL, long and odd
// chunk sizes, chunk extensions, trailers, pipelining after an error.

// Raw bytes a client sends on one connection, and the statuses it must get
// back in order: 200 for a request that is forwarded (every accepted case
// is a chat completion with a valid body), else the refusal, after which
// the connection is closed and nothing more of it is read.
struct RequestCase
{
    QByteArray name;
    QByteArray raw;
    QList<int> answers;
    int forwarded() const { return int(answers.count(200)); }
};

// Raw bytes an upstream answers with (and then closes), and their fate: an
// accepted one reaches the client with exactly `body`; an ambiguous head is
// a failed attempt (the next key is tried; with none, 502); a body that
// breaks its framing after the head was passed on cuts the client's
// connection, never a clean end of a guessed length.
struct ResponseCase
{
    enum class Fate { Taken, FailedAttempt, Cut };
    QByteArray name;
    QByteArray raw;
    Fate fate = Fate::FailedAttempt;
    QByteArray body;
    bool accepted() const { return fate == Fate::Taken; }
};

// The body of every accepted request, and where it is sent.
inline constexpr char kSmugglingBody[] = "{\"model\":\"m\"}";
inline constexpr char kSmuggledMarker[] = "smuggled"; // in every hidden request: it must never arrive

QList<RequestCase> requestCases();
QList<ResponseCase> responseCases();
