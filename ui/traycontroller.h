#pragma once

#include "records/requestrecord.h"

#include <QDate>
#include <QElapsedTimer>
#include <QHash>
#include <QObject>

class QAction;
class QMenu;
class QSystemTrayIcon;

namespace route {

class Engine;
class RequestLogModel;

// The tray icon: its look tells the state (serving, some upstreams down,
// all down, paused), its menu gives the everyday actions, and it shows
// notifications, rate-limited so a flapping key cannot flood the desktop.
class TrayController final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(TrayController)
public:
    enum class State { Serving, Degraded, Down, Paused };

    TrayController(Engine *engine, RequestLogModel *log, QObject *parent = nullptr);
    ~TrayController() override;

    // False when the desktop has no system tray.
    bool show();
    State state() const { return m_state; }
    QMenu *menu() const { return m_menu; }
    QString toolTip() const;
    // What was spent so far today (UTC), read from the records at start.
    void setSpentToday(double usd);
    double spentToday() const { return m_spentToday; }
    void onRecords(const QList<RequestRecord> &records);
    // The text of "Copy environment snippet".
    QString environmentSnippet() const;

public Q_SLOTS:
    void updateState();

Q_SIGNALS:
    void openManagerRequested();
    void connectAppRequested();
    void quitRequested();

private:
    void onHealthChanged(qint64 id, int state, const QString &reason);
    void notify(const QString &key, const QString &title, const QString &text, int minIntervalMs);

    Engine *m_engine;
    RequestLogModel *m_log;
    QMenu *m_menu;
    QSystemTrayIcon *m_tray;
    QAction *m_pause;
    QAction *m_autostart;
    State m_state = State::Serving;
    bool m_allDownAnnounced = false;
    QHash<QString, qint64> m_lastNotified;
    double m_spentToday = 0;
    QDate m_spentDay;
    QElapsedTimer m_clock;
};

} // namespace route
