#include "appcontroller.h"

#include "connectdialog.h"
#include "domain/snapshot.h"
#include "engine/engine.h"
#include "managerwindow.h"
#include "models/requestlogmodel.h"
#include "store/recordrepository.h"
#include "traycontroller.h"

#include <QApplication>
#include <QMessageBox>

namespace route {

AppController::AppController(Engine *engine, const DatabaseConfig &database, QObject *parent)
    : QObject(parent), m_engine(engine), m_database(database), m_log(new RequestLogModel(2000, this))
{
    connect(engine, &Engine::recordsWritten, m_log, &RequestLogModel::append);
}

AppController::~AppController()
{
    delete m_window;
}

bool AppController::start(QString *error)
{
    // The GUI's own connection, on the GUI thread: the proxy never waits for it.
    auto conn = DbConnection::open(m_database, QStringLiteral("gui"));
    if (!conn) {
        *error = conn.error();
        return false;
    }
    m_db = conn.take();
    m_tray = new TrayController(m_engine, m_log, this);
    connect(m_tray, &TrayController::openManagerRequested, this, &AppController::showWindow);
    connect(m_tray, &TrayController::connectAppRequested, this, [this] {
        const QStringList seed = m_engine->snapshots()->current()->settings.tokens;
        auto *dialog = new ConnectDialog(m_engine->baseUrl(), seed.value(0), false);
        dialog->setAttribute(Qt::WA_DeleteOnClose);
        dialog->show();
    });
    const QDate today = QDateTime::currentDateTimeUtc().date();
    double spent = 0;
    for (const UsageRow &r : RecordRepository(m_db->db()).usage(today, today, UsageBy::Day).value_or(QList<UsageRow>()))
        spent += r.costUsd;
    m_tray->setSpentToday(spent);
    connect(m_tray, &TrayController::quitRequested, this, &AppController::quitRequested);
    m_hasTray = m_tray->show();
    if (!m_hasTray) {
        showWindow();
        // Not modal: the window is usable at once.
        auto *notice = new QMessageBox(QMessageBox::Information, tr("No system tray"),
            tr("This desktop has no system tray, so openai-api-route shows its window "
               "instead. Closing the window quits the proxy."),
            QMessageBox::Ok, m_window);
        notice->setAttribute(Qt::WA_DeleteOnClose);
        notice->setObjectName(QStringLiteral("noTrayNotice"));
        notice->open();
    }
    return true;
}

ManagerWindow *AppController::window()
{
    if (!m_window) {
        m_window = new ManagerWindow(m_engine, m_db, m_log);
        m_window->setQuitOnClose(!m_hasTray);
        connect(m_window, &ManagerWindow::quitRequested, this, &AppController::quitRequested);
    }
    return m_window;
}

void AppController::showWindow()
{
    ManagerWindow *w = window();
    w->show();
    w->raise();
    w->activateWindow();
}

} // namespace route
