#pragma once

#include "domain/upstream.h"

#include <QDialog>

#include <memory>

class QLabel;
class QLineEdit;
class QListWidget;
class QPushButton;
class QTableWidget;

namespace route {

class ConfigService;
class DbConnection;

// One upstream's models (SPEC §10): the list it gave when last asked, when
// and why not; a "Fetch now" button; the aliases as a two-column table; and
// the "Only models" list, filled from the fetched names. Saved through the
// ConfigService like every other change.
class ModelsDialog final : public QDialog
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(ModelsDialog)
public:
    ModelsDialog(ConfigService *service, std::shared_ptr<DbConnection> db, qint64 id, QWidget *parent = nullptr);

    QTableWidget *aliases() const { return m_aliases; }
    QListWidget *models() const { return m_models; }
    QLineEdit *allow() const { return m_allow; }
    // Adds an alias row; the table is what is saved.
    void addAlias(const QString &from = QString(), const QString &to = QString());
    // Fetches the list again; the dialog shows the result when it comes.
    void fetchNow();

public Q_SLOTS:
    void accept() override;

private:
    void load();
    void showCatalog(const Upstream &u);
    void allowSelected();
    void filterModels(const QString &text);

    ConfigService *m_service;
    std::shared_ptr<DbConnection> m_db;
    qint64 m_id;
    QLabel *m_status;
    QLineEdit *m_filter;
    QListWidget *m_models;
    QPushButton *m_fetch;
    QLineEdit *m_allow;
    QTableWidget *m_aliases;
    QLabel *m_message;
};

} // namespace route
