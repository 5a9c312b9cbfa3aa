#pragma once

#include "domain/apptoken.h"

#include <QDialog>
#include <QWidget>

#include <memory>

class QCheckBox;
class QDateTimeEdit;
class QDoubleSpinBox;
class QLabel;
class QLineEdit;
class QSpinBox;
class QTableWidget;

namespace route {

class ConfigService;
class DbConnection;
class Engine;

// An app token's name and limits, for adding one or editing its limits.
class AppTokenDialog final : public QDialog
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(AppTokenDialog)
public:
    explicit AppTokenDialog(const AppToken &token, QWidget *parent = nullptr);
    AppTokenPatch patch() const;
    QLineEdit *nameEdit() const { return m_name; }
    QSpinBox *rpmEdit() const { return m_rpm; }

private:
    QLineEdit *m_name;
    QLineEdit *m_allow;
    QSpinBox *m_rpm;
    QSpinBox *m_daily; // thousands of tokens
    QDoubleSpinBox *m_budget;
    QCheckBox *m_expires;
    QDateTimeEdit *m_expiresAt;
    QCheckBox *m_enabled;
};

// App tokens (SPEC §11, §14): add one (its token shown once, with the
// settings to connect an app), edit its limits, disable, delete; and what
// each app seen this month spent.
class AppsPage final : public QWidget
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(AppsPage)
public:
    AppsPage(Engine *engine, std::shared_ptr<DbConnection> db, ConfigService *service, QWidget *parent = nullptr);

    QTableWidget *tokens() const { return m_tokens; }
    QTableWidget *apps() const { return m_apps; }
    void refresh();
    // Makes a token from the dialog's fields; its text, or empty when refused.
    QString addToken(const QString &name, const AppTokenPatch &limits);

protected:
    // Hidden pages do not follow the records; shown, they catch up.
    void showEvent(QShowEvent *event) override;

public Q_SLOTS:
    void addTokenInteractively();
    void editSelected();
    void toggleSelected();
    void deleteSelected();
    void connectApp();

private:
    qint64 selectedId() const;
    void showMessage(const QString &text, bool error);

    Engine *m_engine;
    std::shared_ptr<DbConnection> m_db;
    ConfigService *m_service;
    QTableWidget *m_tokens;
    QTableWidget *m_apps;
    QLabel *m_message;
};

} // namespace route
