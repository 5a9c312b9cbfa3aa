#include "store/keyvault.h"

#include <QCoreApplication>
#include <QEventLoop>
#include <QHash>
#include <QMutex>
#include <QThread>
#include <QTimer>
#include <QUuid>

#include <functional>
#include <optional>
#include <utility>

#ifdef ROUTE_HAVE_KEYCHAIN
#include <qt6keychain/keychain.h>
#endif

namespace route {

namespace KeyVault {

namespace {

// The keychain's name for what this program keeps there.
const QString service = QStringLiteral("openai-api-route");
constexpr int jobTimeoutMs = 10000; // a locked keychain may ask its user; not forever

QMutex cacheMutex;
QHash<QString, QString> &cache()
{
    static QHash<QString, QString> keys;
    return keys;
}

QString idOf(const QString &reference)
{
    return reference.mid(int(qstrlen(referencePrefix)));
}

#ifdef ROUTE_HAVE_KEYCHAIN
// QtKeychain queues its jobs in one executor per process, which is not
// safe across threads: every job is made and run on one thread of ours,
// whatever thread asks. Started on first use, stopped with the application.
class KeychainThread
{
public:
    static KeychainThread &instance()
    {
        static KeychainThread *self = [] {
            qAddPostRoutine([] { delete self; }); // runs once, as the application ends
            return new KeychainThread;
        }();
        return *self;
    }
    ~KeychainThread()
    {
        m_thread.quit();
        m_thread.wait();
    }

    // Runs WORK there and waits for it.
    template <typename F>
    auto run(F work) -> decltype(work())
    {
        if (QThread::currentThread() == &m_thread)
            return work();
        std::optional<decltype(work())> result;
        QMetaObject::invokeMethod(
            m_context, [&result, &work] { result.emplace(work()); }, Qt::BlockingQueuedConnection);
        return std::move(*result);
    }

private:
    KeychainThread()
    {
        m_thread.setObjectName(QStringLiteral("route-keychain"));
        m_context = new QObject;
        m_context->moveToThread(&m_thread);
        QObject::connect(&m_thread, &QThread::finished, m_context, &QObject::deleteLater);
        m_thread.start();
    }
    QThread m_thread;
    QObject *m_context;
};

// Runs JOB (made with new) to its end on this thread's own event loop and
// deletes it; AFTER reads what it found first. A job the keychain does not
// answer in time is left to delete itself when it ends.
Status runJob(
    QKeychain::Job *job, QKeychain::Error *error = nullptr, const std::function<void(QKeychain::Job *)> &after = {})
{
    job->setAutoDelete(false);
    job->setInsecureFallback(false); // never a plain file instead of the keychain
    QEventLoop loop;
    bool finished = false;
    QObject::connect(job, &QKeychain::Job::finished, &loop, [&finished, &loop] {
        finished = true;
        loop.quit();
    });
    QTimer::singleShot(jobTimeoutMs, &loop, &QEventLoop::quit);
    job->start();
    loop.exec(QEventLoop::ExcludeUserInputEvents);
    if (!finished) {
        QObject::disconnect(job, nullptr, &loop, nullptr);
        job->setAutoDelete(true);
        return Status::failure(QCoreApplication::translate("KeyVault", "the system keychain did not answer in %1 s")
                                   .arg(jobTimeoutMs / 1000));
    }
    const QKeychain::Error e = job->error();
    const QString why = job->errorString().simplified();
    if (error)
        *error = e;
    if (e == QKeychain::NoError && after)
        after(job);
    delete job;
    return e == QKeychain::NoError ? Status() : Status::failure(why);
}
#endif

} // namespace

bool isReference(const QString &sk)
{
    return sk.startsWith(QLatin1String(referencePrefix));
}

QString newReference()
{
    return QLatin1String(referencePrefix) + QUuid::createUuid().toString(QUuid::WithoutBraces);
}

Status availability()
{
#ifdef ROUTE_HAVE_KEYCHAIN
    // Asking for a key that is not there tells whether anybody answers.
    QKeychain::Error error = QKeychain::NoError;
    const Status s = KeychainThread::instance().run([&error] {
        auto *probe = new QKeychain::ReadPasswordJob(service);
        probe->setKey(QStringLiteral("availability-probe"));
        return runJob(probe, &error);
    });
    if (s.ok() || error == QKeychain::EntryNotFound)
        return {};
    return Status::failure(
        QCoreApplication::translate("KeyVault", "the system keychain is not available: %1").arg(s.error()));
#else
    return Status::failure(QCoreApplication::translate(
        "KeyVault", "this build has no keychain support (build it with qtkeychain-qt6-dev installed)"));
#endif
}

std::optional<QString> cached(const QString &reference)
{
    QMutexLocker lock(&cacheMutex);
    if (const auto it = cache().constFind(reference); it != cache().cend())
        return *it;
    return std::nullopt;
}

Result<QString> read(const QString &reference)
{
    if (std::optional<QString> known = cached(reference))
        return *known;
#ifdef ROUTE_HAVE_KEYCHAIN
    QString key;
    const Status s = KeychainThread::instance().run([&reference, &key] {
        auto *job = new QKeychain::ReadPasswordJob(service);
        job->setKey(idOf(reference));
        return runJob(job, nullptr,
            [&key](QKeychain::Job *done) { key = static_cast<QKeychain::ReadPasswordJob *>(done)->textData(); });
    });
    if (!s)
        return Result<QString>::failure(s.error());
    QMutexLocker lock(&cacheMutex);
    cache().insert(reference, key);
    return key;
#else
    return Result<QString>::failure(availability().error());
#endif
}

Status write(const QString &reference, const QString &key)
{
#ifdef ROUTE_HAVE_KEYCHAIN
    const Status s = KeychainThread::instance().run([&reference, &key] {
        auto *job = new QKeychain::WritePasswordJob(service);
        job->setKey(idOf(reference));
        job->setTextData(key);
        return runJob(job);
    });
    if (!s)
        return s;
    QMutexLocker lock(&cacheMutex);
    cache().insert(reference, key);
    return {};
#else
    Q_UNUSED(reference);
    Q_UNUSED(key);
    return availability();
#endif
}

Status remove(const QString &reference)
{
    {
        QMutexLocker lock(&cacheMutex);
        cache().remove(reference);
    }
#ifdef ROUTE_HAVE_KEYCHAIN
    QKeychain::Error error = QKeychain::NoError;
    const Status s = KeychainThread::instance().run([&reference, &error] {
        auto *job = new QKeychain::DeletePasswordJob(service);
        job->setKey(idOf(reference));
        return runJob(job, &error);
    });
    if (!s && error != QKeychain::EntryNotFound)
        return s;
    return {};
#else
    Q_UNUSED(reference);
    return availability();
#endif
}

} // namespace KeyVault

} // namespace route
