#include "traycontroller.h"

#include "domain/snapshot.h"
#include "engine/engine.h"
#include "models/requestlogmodel.h"
#include "runtime/autostart.h"

#include <QAction>
#include <QApplication>
#include <QClipboard>
#include <QCoreApplication>
#include <QMenu>
#include <QPainter>
#include <QSystemTrayIcon>
#include <QTimer>

namespace route {

namespace {

QColor stateColor(TrayController::State s)
{
    switch (s) {
    case TrayController::State::Serving: return QColor(0x2e, 0xa0, 0x43);
    case TrayController::State::Degraded: return QColor(0xf0, 0x9a, 0x00);
    case TrayController::State::Down: return QColor(0xd3, 0x2f, 0x2f);
    case TrayController::State::Paused: return QColor(0x8a, 0x8a, 0x8a);
    }
    return Qt::gray;
}

// The app icon with a status dot; painted, so it works without an icon theme.
QIcon stateIcon(TrayController::State s)
{
    const QIcon base(QStringLiteral(":/icons/openai-api-route.svg"));
    QIcon icon;
    for (int size : {16, 22, 24, 32, 48, 64}) {
        QPixmap pixmap(size, size);
        pixmap.fill(Qt::transparent);
        QPainter p(&pixmap);
        p.setRenderHint(QPainter::Antialiasing);
        if (!base.isNull()) {
            base.paint(&p, QRect(0, 0, size, size));
        } else {
            p.setBrush(QColor(0x1f, 0x6f, 0xeb));
            p.setPen(Qt::NoPen);
            p.drawRoundedRect(QRectF(0, 0, size, size), size / 5.0, size / 5.0);
        }
        const qreal d = size * 0.48;
        p.setPen(QPen(Qt::white, qMax(1.0, size / 14.0)));
        p.setBrush(stateColor(s));
        p.drawEllipse(QRectF(size - d - 0.5, size - d - 0.5, d, d));
        icon.addPixmap(pixmap);
    }
    return icon;
}

} // namespace

TrayController::TrayController(Engine *engine, RequestLogModel *log, QObject *parent)
    : QObject(parent), m_engine(engine), m_log(log), m_menu(new QMenu), m_tray(new QSystemTrayIcon(this))
{
    m_clock.start();
    QAction *open = m_menu->addAction(tr("&Open manager"), this, &TrayController::openManagerRequested);
    open->setToolTip(tr("Upstreams, requests and settings"));
    m_menu->addSeparator();
    QAction *copyUrl = m_menu->addAction(
        tr("Copy &base URL"), this, [this] { QApplication::clipboard()->setText(m_engine->baseUrl()); });
    copyUrl->setToolTip(tr("Paste it into your client's \"base URL\" or \"API host\" setting"));
    QAction *copyToken = m_menu->addAction(tr("Copy &token"), this,
        [this] { QApplication::clipboard()->setText(m_engine->snapshots()->current()->settings.tokens.value(0)); });
    copyToken->setToolTip(tr("Paste it into your client's \"API key\" setting"));
    QAction *connectApp = m_menu->addAction(tr("&Connect an app…"), this, &TrayController::connectAppRequested);
    connectApp->setToolTip(tr("Settings to copy for Claude Code, Codex, the OpenAI SDKs and other apps"));
    QAction *copyEnv = m_menu->addAction(
        tr("Copy &environment snippet"), this, [this] { QApplication::clipboard()->setText(environmentSnippet()); });
    copyEnv->setToolTip(tr("OPENAI_BASE_URL and OPENAI_API_KEY for a shell"));
    m_menu->addSeparator();
    m_pause = m_menu->addAction(tr("&Pause proxy"));
    m_pause->setCheckable(true);
    m_pause->setToolTip(tr("While paused, clients get an error and no key is used"));
    connect(m_pause, &QAction::toggled, m_engine, &Engine::setPaused);
    m_autostart = m_menu->addAction(tr("Start at &login"));
    m_autostart->setCheckable(true);
    m_autostart->setChecked(Autostart::isEnabled());
    connect(m_autostart, &QAction::toggled, this,
        [](bool on) { Autostart::setEnabled(on, QCoreApplication::applicationFilePath()); });
    m_menu->addSeparator();
    m_menu->addAction(tr("&Quit"), this, &TrayController::quitRequested);
    m_menu->setToolTipsVisible(true);
    connect(m_menu, &QMenu::aboutToShow, this, [this] { m_autostart->setChecked(Autostart::isEnabled()); });

    m_tray->setContextMenu(m_menu);
    connect(m_engine, &Engine::recordsWritten, this, &TrayController::onRecords);
    connect(m_tray, &QSystemTrayIcon::activated, this, [this](QSystemTrayIcon::ActivationReason reason) {
        if (reason == QSystemTrayIcon::Trigger || reason == QSystemTrayIcon::DoubleClick)
            Q_EMIT openManagerRequested();
    });
    connect(m_engine, &Engine::pausedChanged, this, [this](bool paused) {
        m_pause->setChecked(paused);
        updateState();
    });
    connect(m_engine, &Engine::healthChanged, this,
        [this](qint64 id, HealthState s, const QString &reason) { onHealthChanged(id, int(s), reason); });
    connect(m_engine->snapshots(), &SnapshotHolder::changed, this, &TrayController::updateState, Qt::QueuedConnection);
    auto *timer = new QTimer(this);
    connect(timer, &QTimer::timeout, this, &TrayController::updateState); // requests per minute
    timer->start(10000);
    updateState();
}

TrayController::~TrayController()
{
    delete m_menu;
}

bool TrayController::show()
{
    if (!QSystemTrayIcon::isSystemTrayAvailable())
        return false;
    m_tray->show();
    return true;
}

QString TrayController::environmentSnippet() const
{
    return QStringLiteral("export OPENAI_BASE_URL=%1\nexport OPENAI_API_KEY=%2\n")
        .arg(m_engine->baseUrl(), m_engine->snapshots()->current()->settings.tokens.value(0));
}

QString TrayController::toolTip() const
{
    QString state;
    switch (m_state) {
    case State::Serving: state = tr("serving"); break;
    case State::Degraded: state = tr("some upstreams are down"); break;
    case State::Down: state = tr("all upstreams are down"); break;
    case State::Paused: state = tr("paused"); break;
    }
    return tr("openai-api-route — %1\n%2\n%3 requests in the last minute · $%4 today (UTC)")
        .arg(state, m_engine->baseUrl())
        .arg(m_log->requestsLastMinute())
        .arg(m_spentToday, 0, 'f', 2);
}

void TrayController::setSpentToday(double usd)
{
    m_spentToday = usd;
    m_spentDay = QDateTime::currentDateTimeUtc().date();
    m_tray->setToolTip(toolTip());
}

// Today's spend grows with each record; an app token that reaches a limit
// is announced once a minute at most.
void TrayController::onRecords(const QList<RequestRecord> &records)
{
    const QDate today = QDateTime::currentDateTimeUtc().date();
    if (today != m_spentDay) {
        m_spentDay = today;
        m_spentToday = 0;
    }
    for (const RequestRecord &r : records) {
        if (r.createdAt.toUTC().date() == today)
            m_spentToday += r.costUsd;
        if (!r.limited)
            continue;
        QString name = QString::number(r.appTokenId);
        for (const AppToken &t : m_engine->snapshots()->current()->appTokens)
            if (t.id == r.appTokenId)
                name = t.name;
        notify(QStringLiteral("limit-%1").arg(r.appTokenId), tr("%1 reached a limit").arg(name), r.error, 60000);
    }
    m_tray->setToolTip(toolTip());
}

void TrayController::updateState()
{
    const Engine::Availability available = m_engine->availability();
    const int enabled = available.enabled;
    const int healthy = available.healthy;
    State next = State::Serving;
    if (m_engine->isPaused())
        next = State::Paused;
    else if (enabled == 0 || healthy == 0)
        next = State::Down;
    else if (healthy < enabled)
        next = State::Degraded;
    if (next == State::Down && enabled > 0 && !m_allDownAnnounced) {
        m_allDownAnnounced = true;
        notify(QStringLiteral("all"), tr("All upstreams are down"),
            tr("No key is answering; requests fail until one recovers."), 60000);
    } else if (next != State::Down) {
        m_allDownAnnounced = false;
    }
    if (next != m_state || m_tray->icon().isNull()) {
        m_state = next;
        m_tray->setIcon(stateIcon(next));
    }
    m_tray->setToolTip(toolTip());
}

void TrayController::onHealthChanged(qint64 id, int state, const QString &reason)
{
    QString name = QString::number(id);
    for (const Upstream &u : m_engine->snapshots()->current()->upstreams)
        if (u.id == id && !u.name.isEmpty())
            name = QStringLiteral("%1 (%2)").arg(id).arg(u.name);
    switch (HealthState(state)) {
    case HealthState::Healthy:
        notify(QStringLiteral("up-%1").arg(id), tr("Upstream %1 is back").arg(name), tr("It answers again."), 60000);
        break;
    case HealthState::AuthFailed:
        notify(QStringLiteral("down-%1").arg(id), tr("Key of upstream %1 rejected").arg(name),
            tr("The upstream refused the key (%1). Check or replace it in the manager.").arg(reason), 300000);
        break;
    case HealthState::CoolingDown:
        notify(QStringLiteral("down-%1").arg(id), tr("Upstream %1 is down").arg(name),
            tr("It failed several times (%1); other keys take its requests.").arg(reason), 60000);
        break;
    default: break; // rate limits and probes come and go too often to announce
    }
    updateState();
}

void TrayController::notify(const QString &key, const QString &title, const QString &text, int minIntervalMs)
{
    const qint64 now = m_clock.elapsed();
    const qint64 last = m_lastNotified.value(key, -1);
    const qint64 lastAny = m_lastNotified.value(QStringLiteral("*"), -1);
    if ((last >= 0 && now - last < minIntervalMs) || (lastAny >= 0 && now - lastAny < 5000))
        return;
    m_lastNotified.insert(key, now);
    m_lastNotified.insert(QStringLiteral("*"), now);
    if (m_tray->isVisible())
        m_tray->showMessage(title, text, QSystemTrayIcon::Information, 8000);
}

} // namespace route
