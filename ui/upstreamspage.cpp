#include "upstreamspage.h"

#include "addupstreamdialog.h"
#include "domain/snapshot.h"
#include "engine/engine.h"
#include "models/upstreamtablemodel.h"
#include "modelsdialog.h"
#include "preferences.h"
#include "service/configservice.h"
#include "store/database.h"

#include <QApplication>
#include <QHeaderView>
#include <QLabel>
#include <QMessageBox>
#include <QPointer>
#include <QTableView>
#include <QTimer>
#include <QToolBar>
#include <QVBoxLayout>

namespace route {

UpstreamsPage::UpstreamsPage(Engine *engine, std::shared_ptr<DbConnection> db, ConfigService *service, QWidget *parent)
    : QWidget(parent)
    , m_engine(engine)
    , m_db(std::move(db))
    , m_service(service)
    , m_model(new UpstreamTableModel(this, m_db->db(), service))
    , m_view(new QTableView)
    , m_message(new QLabel)
    , m_empty(new QLabel)
    , m_refreshTimer(new QTimer(this))
{
    m_model->setHealthSource(
        [engine](qint64 id) { return engine->health() ? engine->health()->health(id) : UpstreamHealth(); });
    m_model->setRevealKeys(Preferences::value(Preferences::Key::RevealKeys).toBool());

    m_message->setWordWrap(true);
    m_message->setVisible(false);
    m_empty->setText(tr("No upstreams yet. Click <b>Add…</b> and paste an API key; every client then uses this "
                        "proxy's base URL and token instead."));
    m_empty->setWordWrap(true);

    setUpView();
    auto *layout = new QVBoxLayout(this);
    layout->addWidget(makeToolBar());
    layout->addWidget(m_message);
    layout->addWidget(m_empty);
    layout->addWidget(m_view, 1);
    followChanges();
    updateEmptyState();
}

QToolBar *UpstreamsPage::makeToolBar()
{
    auto *bar = new QToolBar;
    bar->setToolButtonStyle(Qt::ToolButtonTextBesideIcon);
    QAction *add
        = bar->addAction(QIcon::fromTheme(QStringLiteral("list-add")), tr("&Add…"), this, &UpstreamsPage::addUpstream);
    add->setShortcut(QKeySequence::New);
    add->setToolTip(tr("Add an API key (Ctrl+N)"));
    QAction *remove = bar->addAction(
        QIcon::fromTheme(QStringLiteral("list-remove")), tr("&Delete"), this, &UpstreamsPage::deleteSelected);
    remove->setShortcut(QKeySequence::Delete);
    remove->setToolTip(tr("Delete the selected upstream (Del)"));
    QAction *test = bar->addAction(QIcon::fromTheme(QStringLiteral("network-transmit-receive")), tr("&Test key"), this,
        &UpstreamsPage::testSelected);
    test->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_T));
    test->setToolTip(tr("Ask the upstream for its models with this key; costs no tokens (Ctrl+T)"));
    QAction *fetch = bar->addAction(
        QIcon::fromTheme(QStringLiteral("view-refresh")), tr("&Fetch models"), this, &UpstreamsPage::fetchModels);
    fetch->setShortcut(QKeySequence::Refresh);
    fetch->setToolTip(tr("Ask the selected upstream (or all, when none is selected) for its model list (F5)"));
    QAction *models = bar->addAction(
        QIcon::fromTheme(QStringLiteral("document-properties")), tr("&Models…"), this, &UpstreamsPage::editModels);
    models->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_M));
    models->setToolTip(tr("The selected upstream's models, aliases and allowed models (Ctrl+M)"));
    bar->addSeparator();
    QAction *up
        = bar->addAction(QIcon::fromTheme(QStringLiteral("go-up")), tr("Move &up"), this, [this] { moveSelected(-1); });
    up->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_Up));
    up->setToolTip(tr("Try this upstream earlier with the order policy (Ctrl+Up)"));
    QAction *down = bar->addAction(
        QIcon::fromTheme(QStringLiteral("go-down")), tr("Move do&wn"), this, [this] { moveSelected(1); });
    down->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_Down));
    down->setToolTip(tr("Try this upstream later with the order policy (Ctrl+Down)"));
    bar->addSeparator();
    QAction *reveal = bar->addAction(QIcon::fromTheme(QStringLiteral("view-reveal-symbolic")), tr("&Reveal keys"));
    reveal->setCheckable(true);
    reveal->setChecked(m_model->revealKeys());
    reveal->setToolTip(tr("Show the API keys in full (and make them editable)"));
    connect(reveal, &QAction::toggled, this, [this](bool on) {
        m_model->setRevealKeys(on);
        Preferences::setValue(Preferences::Key::RevealKeys, on);
    });

    return bar;
}

// Columns in the order people read them, widths that fit typical values.
void UpstreamsPage::setUpView()
{
    m_view->setModel(m_model);
    m_view->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_view->setSelectionMode(QAbstractItemView::SingleSelection);
    m_view->setEditTriggers(
        QAbstractItemView::DoubleClicked | QAbstractItemView::EditKeyPressed | QAbstractItemView::AnyKeyPressed);
    m_view->setAlternatingRowColors(true);
    m_view->verticalHeader()->hide();
    m_view->setTabKeyNavigation(true);
    QHeaderView *header = m_view->horizontalHeader();
    const QList<int> visible = m_model->visibleColumns();
    for (int c = 0; c < m_model->columnCount(); ++c)
        m_view->setColumnHidden(c, !visible.contains(c));
    for (int i = 0; i < visible.size(); ++i)
        header->moveSection(header->visualIndex(visible[i]), i);
    header->setSectionResizeMode(QHeaderView::Interactive);
    header->setStretchLastSection(true);
    m_view->setColumnWidth(m_model->column("id"), 44);
    m_view->setColumnWidth(m_model->column("name"), 120);
    m_view->setColumnWidth(m_model->column("endpoint"), 230);
    m_view->setColumnWidth(m_model->column("format"), 80);
    m_view->setColumnWidth(m_model->column("responses"), 80);
    m_view->setColumnWidth(m_model->column("sk"), 130);
    m_view->setColumnWidth(m_model->column("enabled"), 40);
    m_view->setColumnWidth(m_model->column("weight"), 60);
    m_view->setColumnWidth(m_model->column("models"), 70);
    m_view->setColumnWidth(m_model->column("model_map"), 140);
    m_view->setColumnWidth(m_model->healthColumn(), 120);
    // The catalog and the aliases open their editor instead of a cell editor.
    connect(m_view, &QTableView::doubleClicked, this, [this](const QModelIndex &index) {
        if (index.column() == m_model->column("models") || index.column() == m_model->column("model_map"))
            editModels();
    });
}

// Edits, health, outside changes and the moving counters, as they happen.
void UpstreamsPage::followChanges()
{
    connect(m_model, &UpstreamTableModel::validationFailed, this, [this](const QString &m) { showMessage(m, true); });
    connect(m_model, &UpstreamTableModel::edited, this, [this] { showMessage(QString(), false); });
    connect(m_engine, &Engine::healthChanged, m_model, &UpstreamTableModel::healthChanged);
    connect(m_engine->snapshots(), &SnapshotHolder::changed, this, &UpstreamsPage::refresh, Qt::QueuedConnection);
    // Counters move with every request; a cheap re-read while visible.
    connect(m_refreshTimer, &QTimer::timeout, this, [this] {
        if (isVisible())
            refresh();
    });
    m_refreshTimer->start(3000);
}

void UpstreamsPage::refresh()
{
    // Never pull the table from under an open editor.
    QWidget *focus = QApplication::focusWidget();
    if (focus && m_view->viewport()->isAncestorOf(focus))
        return;
    const qint64 selected = selectedId();
    m_model->select();
    const int row = m_model->rowOf(selected);
    if (row >= 0)
        m_view->selectRow(row);
    updateEmptyState();
}

void UpstreamsPage::updateEmptyState()
{
    m_empty->setVisible(m_model->rowCount() == 0);
}

void UpstreamsPage::showMessage(const QString &text, bool error)
{
    m_message->setText(text);
    m_message->setStyleSheet(error ? QStringLiteral("color: #b00020;") : QString());
    m_message->setVisible(!text.isEmpty());
}

qint64 UpstreamsPage::selectedId() const
{
    const QModelIndexList rows
        = m_view->selectionModel() ? m_view->selectionModel()->selectedRows() : QModelIndexList();
    if (!rows.isEmpty())
        return m_model->idAt(rows.first().row());
    const QModelIndex current = m_view->currentIndex();
    return current.isValid() ? m_model->idAt(current.row()) : 0;
}

void UpstreamsPage::addUpstream()
{
    AddUpstreamDialog dialog(m_service, this);
    if (dialog.exec() != QDialog::Accepted)
        return;
    const ChangeResult out = m_service->createUpstream(dialog.upstream());
    if (!out.ok()) {
        showMessage(out.error->translated(), true);
        return;
    }
    refresh();
    const int row = m_model->rowOf(out.id);
    if (row >= 0)
        m_view->selectRow(row);
    showMessage(tr("Added upstream %1.").arg(out.id), false);
}

void UpstreamsPage::deleteSelected()
{
    const qint64 id = selectedId();
    if (id <= 0)
        return;
    const auto answer = QMessageBox::question(
        this, tr("Delete upstream"), tr("Delete upstream %1? Its key is removed from the database.").arg(id));
    if (answer != QMessageBox::Yes)
        return;
    const ChangeResult out = m_service->deleteUpstream(id);
    if (!out.ok())
        showMessage(out.error->translated(), true);
    refresh();
}

void UpstreamsPage::testSelected()
{
    const qint64 id = selectedId();
    if (id <= 0)
        return;
    showMessage(tr("Testing upstream %1…").arg(id), false);
    QPointer<UpstreamsPage> page(this);
    const bool started = m_service->testUpstream(id, [this, page, id](const ProbeResult &r) {
        if (!page)
            return;
        if (r.ok) {
            showMessage(tr("Upstream %1 works: %2 ms, %3 models.").arg(id).arg(r.latencyMs).arg(r.modelCount), false);
        } else {
            const QString why = r.status ? tr("HTTP %1: %2").arg(r.status).arg(r.error) : r.error;
            showMessage(tr("Upstream %1 failed the test: %2").arg(id).arg(why), true);
        }
        m_model->healthChanged();
    });
    if (!started)
        showMessage(QString(), false); // deleted meanwhile
}

void UpstreamsPage::fetchModels()
{
    QList<qint64> ids;
    if (const qint64 id = selectedId(); id > 0)
        ids << id;
    else
        for (const Upstream &u : m_engine->snapshots()->current()->upstreams)
            if (u.enabled)
                ids << u.id;
    if (ids.isEmpty())
        return;
    showMessage(tr("Fetching the model lists…"), false);
    QPointer<UpstreamsPage> page(this);
    auto remaining = std::make_shared<int>(int(ids.size()));
    auto failed = std::make_shared<QStringList>();
    for (const qint64 id : std::as_const(ids)) {
        const bool started = m_service->refreshModels(id, [this, page, id, remaining, failed](const ProbeResult &r) {
            if (!page)
                return;
            if (!r.ok)
                *failed << tr("%1 (%2)").arg(id).arg(r.error);
            if (--*remaining > 0)
                return;
            refresh();
            if (failed->isEmpty())
                showMessage(tr("Model lists fetched."), false);
            else
                showMessage(
                    tr("These upstreams did not list their models: %1").arg(failed->join(QStringLiteral(", "))), true);
        });
        if (!started)
            --*remaining;
    }
}

void UpstreamsPage::editModels()
{
    const qint64 id = selectedId();
    if (id <= 0)
        return;
    ModelsDialog dialog(m_service, m_db, id, this);
    if (dialog.exec() == QDialog::Accepted) {
        refresh();
        showMessage(tr("Saved the models of upstream %1.").arg(id), false);
    }
}

void UpstreamsPage::moveSelected(int delta)
{
    const qint64 id = selectedId();
    const int row = m_model->rowOf(id);
    const int target = row + delta;
    if (row < 0 || target < 0 || target >= m_model->rowCount())
        return;
    // Renumber in the shown order with the two swapped: robust when every
    // sort_order is still the default 0.
    QList<qint64> ids;
    for (int r = 0; r < m_model->rowCount(); ++r)
        ids << m_model->idAt(r);
    ids.swapItemsAt(row, target);
    if (const ChangeResult out = m_service->reorderUpstreams(ids); !out.ok())
        showMessage(out.error->translated(), true);
    refresh();
    m_view->selectRow(m_model->rowOf(id));
}

} // namespace route
