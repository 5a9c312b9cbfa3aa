#pragma once

#include "domain/upstream.h"

#include <QDialog>

class QCheckBox;
class QComboBox;
class QDialogButtonBox;
class QLabel;
class QLineEdit;

namespace route {

class ConfigService;

// Asks for a new upstream: name, endpoint (with presets), key; checks the
// URL and the key as they are typed and can test the key before saving.
class AddUpstreamDialog final : public QDialog
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(AddUpstreamDialog)
public:
    // The key test runs through `service`.
    explicit AddUpstreamDialog(ConfigService *service, QWidget *parent = nullptr);

    Upstream upstream() const;
    // For tests: fill the form.
    void setValues(const QString &name, const QString &endpoint, const QString &key, bool testFirst,
        ApiFormat format = ApiFormat::OpenAI);

public Q_SLOTS:
    void accept() override;

private:
    QString problem() const;
    void updateState();
    void runTest();

    QLineEdit *m_name;
    QComboBox *m_endpoint;
    QLineEdit *m_key;
    QComboBox *m_format;
    QLineEdit *m_proxy;
    QCheckBox *m_test;
    QLabel *m_message;
    QDialogButtonBox *m_buttons;
    ConfigService *m_service;
    bool m_testing = false;
};

} // namespace route
