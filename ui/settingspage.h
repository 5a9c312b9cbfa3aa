#pragma once

#include "service/configservice.h"

#include <QWidget>

#include <functional>

class QCheckBox;
class QComboBox;
class QLabel;
class QLayout;
class QLineEdit;
class QPushButton;
class QSpinBox;

namespace route {

class ConfigService;
class Engine;

// Listen address, client token, policy, timeouts, records, start at login
// and language. Everything but the last two is stored in the database.
class SettingsPage final : public QWidget
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(SettingsPage)
public:
    SettingsPage(Engine *engine, ConfigService *service, QWidget *parent = nullptr);

    QLineEdit *addressEdit() const { return m_address; }
    QLabel *addressMessage() const { return m_addressMessage; }
    QLineEdit *tokenEdit() const { return m_token; }
    QLineEdit *allowedHostsEdit() const { return m_allowedHosts; }
    QLabel *keysStatus() const { return m_keysStatus; }
    QPushButton *keysToKeychainButton() const { return m_keysIn; }
    QPushButton *keysToDatabaseButton() const { return m_keysOut; }

public Q_SLOTS:
    void applyAddress();
    // SPEC §13, one action each way; `ask` false: without the dialogs (tests).
    void moveKeysToKeychain(bool ask = true);
    void moveKeysToDatabase(bool ask = true);
    // Asks the keychain off the GUI thread; the status line follows.
    void checkKeychain();
    // With confirmation unless `ask` is false (tests).
    void regenerateToken(bool ask = true);
    void saveSettings();
    void load();

private:
    QLayout *makeAddressRow();
    QLayout *makeTokenRow();
    QLayout *makeKeysRow();
    void showKeys();
    ChangeResult runMove(const std::function<ChangeResult()> &move);
    void reportMove(bool ask, const QString &title, const ChangeResult &r, int moved, const QString &done);
    void setUpChoices();
    void layOut(QLayout *addressRow, QLayout *tokenRow, QLayout *keysRow);
    void saveOnChange();

    Engine *m_engine;
    ConfigService *m_service;
    QLineEdit *m_address;
    QLabel *m_addressMessage;
    QLineEdit *m_token;
    QComboBox *m_policy;
    QSpinBox *m_timeout;
    QSpinBox *m_streamTimeout;
    QSpinBox *m_idleTimeout;
    QCheckBox *m_recordBodies;
    QLineEdit *m_allowedHosts;
    QLineEdit *m_allowedOrigins;
    QCheckBox *m_metricsPublic;
    QLabel *m_keysStatus;
    QPushButton *m_keysIn;
    QPushButton *m_keysOut;
    QString m_keychainProblem; // why the keychain cannot be used; empty: it can (or not asked yet)
    bool m_keychainChecked = false;
    QCheckBox *m_autostart;
    QComboBox *m_language;
    bool m_loading = false;
};

} // namespace route
