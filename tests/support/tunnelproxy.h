#pragma once

#include <QByteArray>
#include <QMutex>
#include <QString>
#include <QStringList>
#include <QThread>

// An outbound proxy for tests, on 127.0.0.1:0 on its own thread: HTTP
// CONNECT or SOCKS5 (RFC 1928, with RFC 1929 user/password when set). Every
// target host is reached on 127.0.0.1, so an upstream named
// `only-via-proxy.test` exists only through it.
class TunnelProxy
{
public:
    enum class Kind { HttpConnect, Socks5 };

    explicit TunnelProxy(Kind kind, const QString &user = QString(), const QString &password = QString());
    ~TunnelProxy();

    quint16 port() const { return m_port; }
    // "http://user:password@127.0.0.1:PORT" or "socks5://…".
    QString url() const;
    // The host:port of every tunnel opened, in order.
    QStringList targets() const;
    // Handshakes refused for missing or wrong credentials.
    int refusals() const;

private:
    friend class TunnelProxyServer;
    friend class Tunnel;
    void noteTarget(const QString &target);
    void noteRefusal();

    Kind m_kind;
    QString m_user;
    QString m_password;
    QThread m_thread;
    quint16 m_port = 0;
    mutable QMutex m_mutex;
    QStringList m_targets;
    int m_refusals = 0;
};
