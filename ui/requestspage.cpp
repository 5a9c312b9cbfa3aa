#include "requestspage.h"

#include "engine/engine.h"
#include "records/requestlogmodel.h"

#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QSortFilterProxyModel>
#include <QTableView>
#include <QVBoxLayout>

RequestsPage::RequestsPage(Engine *engine, RequestLogModel *log, QWidget *parent)
    : QWidget(parent)
    , m_engine(engine)
    , m_log(log)
    , m_proxy(new QSortFilterProxyModel(this))
    , m_filter(new QLineEdit)
    , m_view(new QTableView)
    , m_empty(new QLabel)
{
    m_proxy->setSourceModel(log);
    m_proxy->setFilterKeyColumn(-1);
    m_proxy->setFilterCaseSensitivity(Qt::CaseInsensitive);
    m_filter->setPlaceholderText(tr("Filter: model, path, status, upstream, error…"));
    m_filter->setClearButtonEnabled(true);
    m_filter->setToolTip(tr("Shows only the requests that contain this text in any column"));
    connect(m_filter, &QLineEdit::textChanged, m_proxy, &QSortFilterProxyModel::setFilterFixedString);

    m_view->setModel(m_proxy);
    m_view->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_view->setAlternatingRowColors(true);
    m_view->verticalHeader()->hide();
    m_view->horizontalHeader()->setStretchLastSection(true);
    m_view->setEditTriggers(QAbstractItemView::NoEditTriggers);
    m_view->setColumnWidth(RequestLogModel::Time, 70);
    m_view->setColumnWidth(RequestLogModel::Client, 90);
    m_view->setColumnWidth(RequestLogModel::Method, 60);
    m_view->setColumnWidth(RequestLogModel::Path, 170);
    m_view->setColumnWidth(RequestLogModel::Model, 120);
    m_view->setColumnWidth(RequestLogModel::Upstream, 70);
    m_view->setColumnWidth(RequestLogModel::Status, 50);

    m_empty->setWordWrap(true);
    m_empty->setTextInteractionFlags(Qt::TextSelectableByMouse);
    auto *layout = new QVBoxLayout(this);
    layout->addWidget(m_filter);
    layout->addWidget(m_empty);
    layout->addWidget(m_view, 1);
    connect(log, &QAbstractItemModel::rowsInserted, this, &RequestsPage::updateEmptyState);
    connect(log, &QAbstractItemModel::modelReset, this, &RequestsPage::updateEmptyState);
    connect(engine, &Engine::listeningOn, this, &RequestsPage::updateEmptyState);
    updateEmptyState();
}

void RequestsPage::updateEmptyState()
{
    m_empty->setText(tr("No requests yet. Point a client at the proxy:<br><code>export OPENAI_BASE_URL=%1<br>"
                        "export OPENAI_API_KEY=&lt;the token from the Settings tab&gt;</code>")
                         .arg(m_engine->baseUrl()));
    m_empty->setVisible(m_log->rowCount() == 0);
}
