#include "proxy/networkpool.h"

#include <QNetworkAccessManager>

NetworkPool::NetworkPool(int size, QObject *parent) : QObject(parent)
{
    for (int i = 0; i < qMax(1, size); ++i) {
        auto *manager = new QNetworkAccessManager(this);
        // A proxy relays redirects and cookies; it does not act on them.
        manager->setRedirectPolicy(QNetworkRequest::ManualRedirectPolicy);
        manager->setCookieJar(nullptr);
        m_slots.append({manager, 0});
    }
}

QNetworkAccessManager *NetworkPool::acquire()
{
    Slot *best = &m_slots.first();
    for (Slot &s : m_slots)
        if (s.inFlight < best->inFlight)
            best = &s;
    ++best->inFlight;
    return best->manager;
}

void NetworkPool::release(QNetworkAccessManager *manager)
{
    for (Slot &s : m_slots)
        if (s.manager == manager && s.inFlight > 0)
            --s.inFlight;
}
