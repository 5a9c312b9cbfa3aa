#include "addupstreamdialog.h"

#include "domain/upstream.h"
#include "net/outboundproxy.h"
#include "service/configservice.h"

#include <QAction>
#include <QCheckBox>
#include <QComboBox>
#include <QDialogButtonBox>
#include <QFormLayout>
#include <QLabel>
#include <QLineEdit>
#include <QMessageBox>
#include <QPointer>
#include <QPushButton>
#include <QVBoxLayout>

namespace route {

AddUpstreamDialog::AddUpstreamDialog(ConfigService *service, QWidget *parent)
    : QDialog(parent)
    , m_name(new QLineEdit)
    , m_endpoint(new QComboBox)
    , m_key(new QLineEdit)
    , m_format(new QComboBox)
    , m_proxy(new QLineEdit)
    , m_test(new QCheckBox(tr("Test the key before saving")))
    , m_message(new QLabel)
    , m_buttons(new QDialogButtonBox(QDialogButtonBox::Save | QDialogButtonBox::Cancel))
    , m_service(service)
{
    setWindowTitle(tr("Add upstream"));
    m_name->setPlaceholderText(tr("optional, e.g. work key"));
    m_endpoint->setEditable(true);
    m_endpoint->addItems({QStringLiteral("https://api.openai.com/v1"), QStringLiteral("https://openrouter.ai/api/v1"),
        QStringLiteral("https://api.deepseek.com/v1"), QStringLiteral("https://api.anthropic.com/v1"),
        QStringLiteral("http://127.0.0.1:11434/v1")});
    m_endpoint->setToolTip(tr("The base URL of an OpenAI-compatible API; the client's /v1 is replaced by its path"));
    m_key->setEchoMode(QLineEdit::Password);
    m_key->setPlaceholderText(QStringLiteral("sk-…"));
    m_key->setToolTip(
        tr("The API key of this upstream; it is stored in the local database and never shown to clients"));
    QAction *reveal
        = m_key->addAction(QIcon::fromTheme(QStringLiteral("view-reveal-symbolic")), QLineEdit::TrailingPosition);
    reveal->setCheckable(true);
    reveal->setToolTip(tr("Show the key"));
    connect(reveal, &QAction::toggled, this,
        [this](bool on) { m_key->setEchoMode(on ? QLineEdit::Normal : QLineEdit::Password); });
    m_format->addItem(
        tr("OpenAI-compatible (Chat Completions, Responses)"), QString(Vocabulary::name(ApiFormat::OpenAI)));
    m_format->addItem(tr("Anthropic (Messages, for Claude Code)"), QString(Vocabulary::name(ApiFormat::Anthropic)));
    m_format->setToolTip(tr("The API this upstream speaks; requests go to the upstreams of their own API"));
    // The well-known Anthropic endpoint picks its format by itself.
    connect(m_endpoint, &QComboBox::editTextChanged, this, [this](const QString &text) {
        if (text.contains(QLatin1String("anthropic.com")))
            m_format->setCurrentIndex(1);
    });
    m_proxy->setObjectName(QStringLiteral("proxy"));
    m_proxy->setPlaceholderText(tr("empty = the system's HTTPS_PROXY / ALL_PROXY, if set"));
    m_proxy->setToolTip(tr("Reach this upstream through a proxy: http://host:port or socks5://host:port, with "
                           "user:password@ if it needs them; direct = never a proxy"));
    m_test->setChecked(true);
    m_test->setToolTip(tr("Asks GET {endpoint}/models with the key; this costs no tokens"));
    m_message->setWordWrap(true);
    m_message->setObjectName(QStringLiteral("message"));

    auto *form = new QFormLayout;
    form->addRow(tr("&Name:"), m_name);
    form->addRow(tr("&Endpoint:"), m_endpoint);
    form->addRow(tr("API &key:"), m_key);
    form->addRow(tr("&API:"), m_format);
    form->addRow(tr("&Proxy:"), m_proxy);
    auto *layout = new QVBoxLayout(this);
    layout->addLayout(form);
    layout->addWidget(m_test);
    layout->addWidget(m_message);
    layout->addWidget(m_buttons);
    connect(m_buttons, &QDialogButtonBox::accepted, this, &AddUpstreamDialog::accept);
    connect(m_buttons, &QDialogButtonBox::rejected, this, &AddUpstreamDialog::reject);
    connect(m_endpoint, &QComboBox::editTextChanged, this, &AddUpstreamDialog::updateState);
    connect(m_key, &QLineEdit::textChanged, this, &AddUpstreamDialog::updateState);
    connect(m_proxy, &QLineEdit::textChanged, this, &AddUpstreamDialog::updateState);
    setMinimumWidth(460);
    updateState();
}

Upstream AddUpstreamDialog::upstream() const
{
    Upstream u;
    u.name = m_name->text().trimmed();
    u.endpoint = m_endpoint->currentText().trimmed();
    u.sk = m_key->text().trimmed();
    u.format = Vocabulary::parseFormat(m_format->currentData().toString()).value_or(ApiFormat::OpenAI);
    u.proxy = m_proxy->text().trimmed();
    return u;
}

void AddUpstreamDialog::setValues(
    const QString &name, const QString &endpoint, const QString &key, bool testFirst, ApiFormat format)
{
    m_format->setCurrentIndex(format == ApiFormat::Anthropic ? 1 : 0);
    m_name->setText(name);
    m_endpoint->setEditText(endpoint);
    m_key->setText(key);
    m_test->setChecked(testFirst);
}

QString AddUpstreamDialog::problem() const
{
    if (!isValidEndpoint(m_endpoint->currentText().trimmed()))
        return tr("The endpoint must be an http:// or https:// URL, such as https://api.openai.com/v1.");
    if (m_key->text().trimmed().isEmpty())
        return tr("Enter the API key.");
    if (!OutboundProxy::parse(m_proxy->text()))
        return tr("The proxy must be http://host:port or socks5://host:port, or empty.");
    return QString();
}

void AddUpstreamDialog::updateState()
{
    const QString p = problem();
    m_buttons->button(QDialogButtonBox::Save)->setEnabled(p.isEmpty() && !m_testing);
    m_message->setText(p);
}

void AddUpstreamDialog::accept()
{
    if (!problem().isEmpty() || m_testing)
        return;
    if (m_test->isChecked()) {
        runTest();
        return;
    }
    QDialog::accept();
}

void AddUpstreamDialog::runTest()
{
    m_testing = true;
    updateState();
    m_message->setText(tr("Testing the key…"));
    QPointer<AddUpstreamDialog> dialog(this);
    m_service->testKey(upstream(), [this, dialog](const ProbeResult &r) {
        if (!dialog)
            return;
        m_testing = false;
        updateState();
        if (r.ok) {
            m_message->setText(tr("The key works (%1 ms, %2 models).").arg(r.latencyMs).arg(r.modelCount));
            QDialog::accept();
            return;
        }
        const QString why = r.status ? tr("HTTP %1: %2").arg(r.status).arg(r.error) : r.error;
        m_message->setText(tr("The test failed: %1").arg(why));
        const auto answer = QMessageBox::question(
            this, tr("Key test failed"), tr("The upstream answered: %1\n\nSave it anyway?").arg(why));
        if (answer == QMessageBox::Yes)
            QDialog::accept();
    });
}

} // namespace route
