#include "traycontroller.h"

#include "engine/engine.h"
#include "store/snapshot.h"

#include <QAction>
#include <QApplication>
#include <QClipboard>
#include <QMenu>
#include <QPainter>
#include <QSystemTrayIcon>

namespace {

QIcon stateIcon(const QColor &color)
{
    QIcon icon;
    for (int size : {16, 22, 24, 32, 48, 64}) {
        QPixmap pixmap(size, size);
        pixmap.fill(Qt::transparent);
        QPainter p(&pixmap);
        p.setRenderHint(QPainter::Antialiasing);
        p.setPen(QPen(QColor(0x20, 0x20, 0x20), qMax(1.0, size / 16.0)));
        p.setBrush(color);
        const qreal m = size / 8.0;
        p.drawEllipse(QRectF(m, m, size - 2 * m, size - 2 * m));
        icon.addPixmap(pixmap);
    }
    return icon;
}

} // namespace

TrayController::TrayController(Engine *engine, QObject *parent)
    : QObject(parent), m_engine(engine), m_menu(new QMenu), m_tray(new QSystemTrayIcon(this))
{
    QAction *copyUrl = m_menu->addAction(tr("Copy base URL"));
    copyUrl->setToolTip(tr("Copy the proxy's base URL for your client's settings"));
    connect(copyUrl, &QAction::triggered, this, &TrayController::copyBaseUrl);
    QAction *copyTok = m_menu->addAction(tr("Copy token"));
    copyTok->setToolTip(tr("Copy the client token (use it as the API key in your client)"));
    connect(copyTok, &QAction::triggered, this, &TrayController::copyToken);
    m_menu->addSeparator();
    QAction *quit = m_menu->addAction(tr("Quit"));
    connect(quit, &QAction::triggered, this, &TrayController::quitRequested);
    m_tray->setContextMenu(m_menu);
    m_tray->setIcon(stateIcon(QColor(0x2e, 0xa0, 0x43)));
    m_tray->setToolTip(tr("openai-api-route — serving on %1").arg(engine->baseUrl()));
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

void TrayController::copyBaseUrl()
{
    QApplication::clipboard()->setText(m_engine->baseUrl());
}

void TrayController::copyToken()
{
    const QStringList tokens = m_engine->snapshots()->current()->settings.tokens;
    if (!tokens.isEmpty())
        QApplication::clipboard()->setText(tokens.first());
}
