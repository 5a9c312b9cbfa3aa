#include "runtime/listenaddress.h"

#include <QObject>

namespace route {

Result<ListenAddress> ListenAddress::parse(const QString &text)
{
    using R = Result<ListenAddress>;
    const QString t = text.trimmed();
    const int colon = t.lastIndexOf(QLatin1Char(':'));
    if (colon < 0)
        return R::failure(QObject::tr("invalid listen address '%1': expected HOST:PORT or :PORT").arg(text));
    QString host = t.left(colon);
    const QString portText = t.mid(colon + 1);
    bool ok = false;
    const uint port = portText.toUInt(&ok);
    if (!ok || port > 65535)
        return R::failure(QObject::tr("invalid port in listen address '%1'").arg(text));

    ListenAddress out;
    out.port = quint16(port);
    if (host.isEmpty()) {
        out.address = QHostAddress::Any; // the seed's ":8888": every interface
        return out;
    }
    if (host.startsWith(QLatin1Char('[')) && host.endsWith(QLatin1Char(']')))
        host = host.mid(1, host.size() - 2);
    else if (host.contains(QLatin1Char(':')))
        return R::failure(QObject::tr("invalid listen address '%1': write IPv6 addresses as [ADDR]:PORT").arg(text));
    if (host == QLatin1String("localhost"))
        out.address = QHostAddress::LocalHost;
    else if (!out.address.setAddress(host))
        return R::failure(QObject::tr("invalid host in listen address '%1': use an IP address").arg(text));
    return out;
}

} // namespace route
