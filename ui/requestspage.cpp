#include "requestspage.h"

#include "engine/engine.h"
#include "models/requestlogmodel.h"

#include <QColor>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QSortFilterProxyModel>
#include <QTableView>
#include <QVBoxLayout>

namespace route {

namespace {

// Failures stand out: 5xx and no answer in red, 4xx in amber.
class StatusColours : public QSortFilterProxyModel
{
public:
    using QSortFilterProxyModel::QSortFilterProxyModel;
    QVariant data(const QModelIndex &index, int role) const override
    {
        if (role == Qt::ForegroundRole && index.column() == RequestLogModel::Status) {
            const int status = QSortFilterProxyModel::data(index, Qt::UserRole).toInt();
            if (status >= 500 || status == 0)
                return QColor(0xc6, 0x28, 0x28);
            if (status >= 400)
                return QColor(0xb2, 0x6a, 0x00);
        }
        return QSortFilterProxyModel::data(index, role);
    }
};

} // namespace

RequestsPage::RequestsPage(Engine *engine, RequestLogModel *log, QWidget *parent)
    : QWidget(parent)
    , m_engine(engine)
    , m_log(log)
    , m_proxy(new StatusColours(this))
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

} // namespace route
