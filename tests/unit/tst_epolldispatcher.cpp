// The network threads' event dispatcher, installed here on the main thread
// so that every test below runs on it: timers, posted events from other
// threads, sockets (including descriptor numbers reused at once), quitting.
#include "net/epolldispatcher.h"
#include "util/lazydeadline.h"

#include <QAbstractEventDispatcher>
#include <QCoreApplication>
#include <QElapsedTimer>
#include <QEventLoop>
#include <QPointer>
#include <QTcpServer>
#include <QTcpSocket>
#include <QTest>
#include <QTimer>

#include <atomic>
#include <thread>
#include <vector>

using namespace route; // test code reads like code inside the project

namespace {
QAbstractEventDispatcher *g_dispatcher = nullptr;
}

class TestEpollDispatcher : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void installed();
    void singleShotsFireInDeadlineOrder();
    void repeatingTimerStopsWhenStopped();
    void timerStoppedByAnotherDueTimerNeverFires();
    void remainingTime();
    void eventsPostedFromOtherThreads();
    void deleteLaterRuns();
    void nestedLoopQuits();
    void socketsExchangeLargeData();
    void reusedDescriptorsKeepWorking();
    void threadWithDispatcherQuits();
    void lazyDeadlineMovesAndExpiresOnce();
};

void TestEpollDispatcher::installed()
{
    QCOMPARE(QAbstractEventDispatcher::instance(), g_dispatcher);
}

void TestEpollDispatcher::singleShotsFireInDeadlineOrder()
{
    QList<int> order;
    QElapsedTimer clock;
    clock.start();
    qint64 firstAt = 0;
    QTimer::singleShot(60, Qt::PreciseTimer, this, [&] { order << 60; });
    QTimer::singleShot(20, Qt::PreciseTimer, this, [&] {
        order << 20;
        firstAt = clock.elapsed();
    });
    QTimer::singleShot(40, Qt::PreciseTimer, this, [&] { order << 40; });
    QTRY_COMPARE(order.size(), 3);
    QCOMPARE(order, QList<int>({20, 40, 60}));
    QVERIFY2(firstAt >= 20, qPrintable(QString::number(firstAt))); // never early
}

void TestEpollDispatcher::repeatingTimerStopsWhenStopped()
{
    QTimer timer;
    timer.setInterval(5);
    int ticks = 0;
    connect(&timer, &QTimer::timeout, this, [&] {
        if (++ticks == 5)
            timer.stop();
    });
    timer.start();
    QTRY_COMPARE(ticks, 5);
    QTest::qWait(50);
    QCOMPARE(ticks, 5);
}

void TestEpollDispatcher::timerStoppedByAnotherDueTimerNeverFires()
{
    QTimer first;
    QTimer second;
    first.setSingleShot(true);
    second.setSingleShot(true);
    bool secondFired = false;
    connect(&first, &QTimer::timeout, this, [&] { second.stop(); });
    connect(&second, &QTimer::timeout, this, [&] { secondFired = true; });
    first.start(10);
    second.start(10);
    QThread::msleep(30); // both due in the same turn
    QTest::qWait(30);
    QVERIFY(!first.isActive());
    QVERIFY(!secondFired);
}

void TestEpollDispatcher::remainingTime()
{
    QTimer timer;
    timer.setSingleShot(true);
    timer.start(1000);
    const int left = timer.remainingTime();
    QVERIFY2(left > 900 && left <= 1000, qPrintable(QString::number(left)));
    timer.stop();
    QCOMPARE(timer.remainingTime(), -1);
}

void TestEpollDispatcher::eventsPostedFromOtherThreads()
{
    constexpr int threads = 4;
    constexpr int perThread = 2000;
    int received = 0; // main thread only
    std::vector<std::thread> posters;
    for (int t = 0; t < threads; ++t) {
        posters.emplace_back([this, &received] {
            for (int i = 0; i < perThread; ++i)
                QMetaObject::invokeMethod(
                    this, [&received] { ++received; }, Qt::QueuedConnection);
        });
    }
    for (auto &t : posters)
        t.join();
    QTRY_COMPARE(received, threads * perThread);

    // And one that arrives while the thread sleeps in the wait.
    std::atomic<bool> late{false};
    std::thread sleeper([this, &late] {
        QThread::msleep(50);
        QMetaObject::invokeMethod(
            this, [&late] { late = true; }, Qt::QueuedConnection);
    });
    QElapsedTimer clock;
    clock.start();
    QTRY_VERIFY_WITH_TIMEOUT(late.load(), 2000);
    QVERIFY2(clock.elapsed() < 1000, "a post from another thread must wake the thread up");
    sleeper.join();
}

void TestEpollDispatcher::deleteLaterRuns()
{
    QPointer<QObject> object = new QObject;
    object->deleteLater();
    QTRY_VERIFY(object.isNull());
}

void TestEpollDispatcher::nestedLoopQuits()
{
    QEventLoop loop;
    QTimer::singleShot(10, &loop, &QEventLoop::quit);
    QElapsedTimer clock;
    clock.start();
    loop.exec();
    QVERIFY(clock.elapsed() < 2000);
}

void TestEpollDispatcher::socketsExchangeLargeData()
{
    QTcpServer server;
    QVERIFY(server.listen(QHostAddress::LocalHost, 0));
    QTcpSocket client;
    client.connectToHost(QHostAddress::LocalHost, server.serverPort());
    QTRY_VERIFY(server.hasPendingConnections());
    QTcpSocket *peer = server.nextPendingConnection();
    QByteArray echoed;
    connect(peer, &QTcpSocket::readyRead, peer, [peer] { peer->write(peer->readAll()); });
    connect(&client, &QTcpSocket::readyRead, this, [&] { echoed += client.readAll(); });

    QByteArray payload(4 * 1024 * 1024, Qt::Uninitialized);
    for (int i = 0; i < payload.size(); ++i)
        payload[i] = char(i * 31 + (i >> 11));
    client.write(payload); // far more than the kernel buffers: write readiness matters
    QTRY_COMPARE_WITH_TIMEOUT(echoed.size(), payload.size(), 20000);
    QVERIFY(echoed == payload);

    bool gone = false;
    connect(&client, &QTcpSocket::disconnected, this, [&] { gone = true; });
    peer->disconnectFromHost();
    QTRY_VERIFY(gone);
}

void TestEpollDispatcher::reusedDescriptorsKeepWorking()
{
    // Closing a socket and opening the next in the same turn hands the new
    // one the same descriptor number: it must still get its events.
    QTcpServer server;
    QVERIFY(server.listen(QHostAddress::LocalHost, 0));
    for (int round = 0; round < 40; ++round) {
        auto *client = new QTcpSocket;
        client->connectToHost(QHostAddress::LocalHost, server.serverPort());
        QTRY_VERIFY(server.hasPendingConnections());
        QTcpSocket *peer = server.nextPendingConnection();
        peer->write("ping");
        QTRY_COMPARE(client->bytesAvailable(), qint64(4));
        QCOMPARE(client->readAll(), QByteArray("ping"));
        client->write("pong");
        QTRY_COMPARE(peer->bytesAvailable(), qint64(4));
        QCOMPARE(peer->readAll(), QByteArray("pong"));
        client->abort();
        delete client;
        peer->abort();
        delete peer;
    }
}

void TestEpollDispatcher::threadWithDispatcherQuits()
{
    QThread thread;
    QAbstractEventDispatcher *dispatcher = createNetworkEventDispatcher();
    QVERIFY(dispatcher);
    thread.setEventDispatcher(dispatcher);
    thread.start();
    QObject worker;
    worker.moveToThread(&thread);
    std::atomic<int> ran{0};
    for (int i = 0; i < 100; ++i)
        QMetaObject::invokeMethod(
            &worker, [&ran] { ++ran; }, Qt::QueuedConnection);
    QTRY_COMPARE(ran.load(), 100);
    QMetaObject::invokeMethod(
        &worker, [&worker] { worker.moveToThread(QCoreApplication::instance()->thread()); },
        Qt::BlockingQueuedConnection);
    thread.quit();
    QVERIFY(thread.wait(5000));
}

namespace {
// Counts the expiries of its deadline, with when they came.
class DeadlineWatcher : public QObject
{
public:
    LazyDeadline deadline;
    QList<qint64> expiredAt; // ms since `clock` started
    QElapsedTimer clock;

protected:
    void timerEvent(QTimerEvent *event) override
    {
        if (event->timerId() == deadline.timerId() && deadline.fire(this))
            expiredAt << clock.elapsed();
    }
};
} // namespace

// Moved later, the deadline waits for the new time; moved earlier, it comes
// then; disarmed, it never comes; it expires once per arming.
void TestEpollDispatcher::lazyDeadlineMovesAndExpiresOnce()
{
    DeadlineWatcher w;
    w.clock.start();
    w.deadline.armIn(80, &w);
    QTest::qWait(40);
    w.deadline.armIn(120, &w); // now due at ~160 ms, not 80
    QTRY_COMPARE_WITH_TIMEOUT(w.expiredAt.size(), 1, 2000);
    QVERIFY2(w.expiredAt.first() >= 160, qPrintable(QString::number(w.expiredAt.first())));
    QVERIFY(!w.deadline.isArmed());
    QTest::qWait(100);
    QCOMPARE(w.expiredAt.size(), 1); // once

    const qint64 start = w.clock.elapsed();
    w.deadline.armIn(5000, &w);
    w.deadline.armIn(30, &w); // earlier: the timer restarts
    QTRY_COMPARE_WITH_TIMEOUT(w.expiredAt.size(), 2, 2000);
    QVERIFY2(w.expiredAt.last() - start >= 30 && w.expiredAt.last() - start < 2000,
        qPrintable(QString::number(w.expiredAt.last() - start)));

    w.deadline.armIn(30, &w);
    w.deadline.disarm();
    QTest::qWait(120);
    QCOMPARE(w.expiredAt.size(), 2);
    w.deadline.armIn(20, &w);
    w.deadline.stop();
    QTest::qWait(80);
    QCOMPARE(w.expiredAt.size(), 2);
}

int main(int argc, char **argv)
{
    g_dispatcher = createNetworkEventDispatcher();
    if (!g_dispatcher) {
        qCritical("createNetworkEventDispatcher() gave no dispatcher (is ROUTE_NO_EPOLL set?)");
        return 1;
    }
    QCoreApplication::setEventDispatcher(g_dispatcher);
    QCoreApplication app(argc, argv);
    TestEpollDispatcher test;
    return QTest::qExec(&test, argc, argv);
}

#include "tst_epolldispatcher.moc"
