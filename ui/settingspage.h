#pragma once

#include <QWidget>

#include <memory>

class DbConnection;
class Engine;
class QCheckBox;
class QComboBox;
class QLabel;
class QLineEdit;
class QSpinBox;

// Listen address, client token, policy, timeouts, records, start at login
// and language. Everything but the last two is stored in the database.
class SettingsPage : public QWidget
{
    Q_OBJECT
public:
    SettingsPage(Engine *engine, std::shared_ptr<DbConnection> db, QWidget *parent = nullptr);

    QLineEdit *addressEdit() const { return m_address; }
    QLabel *addressMessage() const { return m_addressMessage; }
    QLineEdit *tokenEdit() const { return m_token; }

public Q_SLOTS:
    void applyAddress();
    // With confirmation unless `ask` is false (tests).
    void regenerateToken(bool ask = true);
    void saveSettings();
    void load();

private:
    Engine *m_engine;
    std::shared_ptr<DbConnection> m_db;
    QLineEdit *m_address;
    QLabel *m_addressMessage;
    QLineEdit *m_token;
    QComboBox *m_policy;
    QSpinBox *m_timeout;
    QSpinBox *m_streamTimeout;
    QSpinBox *m_idleTimeout;
    QCheckBox *m_recordBodies;
    QCheckBox *m_autostart;
    QComboBox *m_language;
    bool m_loading = false;
};
