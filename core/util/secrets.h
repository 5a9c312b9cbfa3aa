#pragma once

#include <QByteArray>
#include <QByteArrayView>
#include <QString>

namespace route {

namespace Secrets {

// "sk-abcdef…wxyz": enough to tell keys apart, never enough to use one.
QString mask(const QString &secret);

// Compares without an early exit, so the time taken says nothing about how
// much of the candidate matched, nor how long the stored secret is.
bool constantTimeEquals(QByteArrayView presented, QByteArrayView stored);

// A fresh client token: "sk-route-" and 32 random URL-safe characters.
QString generateToken();

} // namespace Secrets

} // namespace route
