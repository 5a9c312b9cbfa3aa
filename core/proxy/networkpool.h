#pragma once

#include <QList>
#include <QObject>

class QNetworkAccessManager;

// Several QNetworkAccessManagers: one allows only 6 connections per host, so
// many concurrent streams to one upstream would queue behind each other.
// Lives on the proxy thread; the request goes to the least busy manager.
class NetworkPool : public QObject
{
    Q_OBJECT
public:
    explicit NetworkPool(int size, QObject *parent = nullptr);

    QNetworkAccessManager *acquire();
    void release(QNetworkAccessManager *manager);

private:
    struct Slot
    {
        QNetworkAccessManager *manager;
        int inFlight;
    };
    QList<Slot> m_slots;
};
