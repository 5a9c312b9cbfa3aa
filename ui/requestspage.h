#pragma once

#include <QWidget>

class QLabel;
class QLineEdit;
class QSortFilterProxyModel;
class QTableView;

namespace route {

class Engine;
class RequestLogModel;

// The live request log with a filter, and an empty state that says how to
// point a client at the proxy.
class RequestsPage final : public QWidget
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(RequestsPage)
public:
    RequestsPage(Engine *engine, RequestLogModel *log, QWidget *parent = nullptr);

    QLineEdit *filter() const { return m_filter; }
    QSortFilterProxyModel *proxy() const { return m_proxy; }

private:
    void updateEmptyState();

    Engine *m_engine;
    RequestLogModel *m_log;
    QSortFilterProxyModel *m_proxy;
    QLineEdit *m_filter;
    QTableView *m_view;
    QLabel *m_empty;
};

} // namespace route
