#pragma once

#include <QWidget>

#include <memory>

class QLabel;
class QTableView;
class QTimer;
class QToolBar;

namespace route {

class DbConnection;
class Engine;
class ConfigService;
class UpstreamTableModel;

// The upstreams table with its actions: add, delete, test, reorder, reveal.
class UpstreamsPage final : public QWidget
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(UpstreamsPage)
public:
    // Reads through `db`; changes go through `service`.
    UpstreamsPage(Engine *engine, std::shared_ptr<DbConnection> db, ConfigService *service, QWidget *parent = nullptr);

    UpstreamTableModel *model() const { return m_model; }
    QTableView *view() const { return m_view; }
    // Picks up changes made elsewhere (admin API, CLI, another process).
    void refresh();
    void showMessage(const QString &text, bool error);

public Q_SLOTS:
    void addUpstream();
    void deleteSelected();
    void testSelected();
    // The selected upstream's list, or every enabled one's when none is selected.
    void fetchModels();
    void editModels();
    void moveSelected(int delta);

private:
    QToolBar *makeToolBar();
    void setUpView();
    void followChanges();
    qint64 selectedId() const;
    void updateEmptyState();

    Engine *m_engine;
    std::shared_ptr<DbConnection> m_db;
    ConfigService *m_service;
    UpstreamTableModel *m_model;
    QTableView *m_view;
    QLabel *m_message;
    QLabel *m_empty;
    QTimer *m_refreshTimer;
};

} // namespace route
