#pragma once

#include <QWidget>

#include <memory>

class DbConnection;
class Engine;
class QLabel;
class QTableView;
class QTimer;
class UpstreamTableModel;

// The upstreams table with its actions: add, delete, test, reorder, reveal.
class UpstreamsPage : public QWidget
{
    Q_OBJECT
public:
    UpstreamsPage(Engine *engine, std::shared_ptr<DbConnection> db, QWidget *parent = nullptr);

    UpstreamTableModel *model() const { return m_model; }
    QTableView *view() const { return m_view; }
    // Picks up changes made elsewhere (admin API, CLI, another process).
    void refresh();
    void showMessage(const QString &text, bool error);

public Q_SLOTS:
    void addUpstream();
    void deleteSelected();
    void testSelected();
    void moveSelected(int delta);

private:
    qint64 selectedId() const;
    void applyToProxy();
    void updateEmptyState();

    Engine *m_engine;
    std::shared_ptr<DbConnection> m_db;
    UpstreamTableModel *m_model;
    QTableView *m_view;
    QLabel *m_message;
    QLabel *m_empty;
    QTimer *m_refreshTimer;
};
