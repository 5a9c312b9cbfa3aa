#pragma once

#include <QObject>

class QSocketNotifier;

namespace route {

// Turns SIGTERM/SIGINT into a Qt signal (self-pipe), so a stop runs on the
// event loop instead of in a signal handler.
class SignalWatcher final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(SignalWatcher)
public:
    explicit SignalWatcher(QObject *parent = nullptr);
    ~SignalWatcher() override;

Q_SIGNALS:
    void terminationRequested(int signal);

private:
    void onActivated();
    QSocketNotifier *m_notifier = nullptr;
};

} // namespace route
