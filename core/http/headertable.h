#pragma once

#include <QByteArray>
#include <QByteArrayView>

namespace route {

// The header names HTTP and this proxy treat specially, with what is special
// about them, in one table (headertable.cpp). Parsers, the responder and the
// forwarding rules all ask here instead of keeping lists of their own.
namespace HeaderTable {

enum Property : unsigned {
    HopByHop = 1u << 0, // RFC 9110 7.6.1: never forwarded
    Framing = 1u << 1, // decides where a body ends; written by whoever frames it
    ClientHop = 1u << 2, // about the client's connection to us (Host, our token): not for an upstream
};

// The properties of a header name (ASCII case-insensitive); 0 for any other.
unsigned properties(QByteArrayView name);
inline bool has(QByteArrayView name, Property p)
{
    return (properties(name) & p) != 0;
}

// The same bytes, from static storage when they are a well-known name (in
// either spelling: clients send lower case, servers canonical) or value, so
// a parsed head allocates nothing for them; otherwise a copy. Spelling kept.
QByteArray interned(QByteArrayView bytes);

} // namespace HeaderTable

} // namespace route
