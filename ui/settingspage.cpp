#include "settingspage.h"

#include "domain/snapshot.h"
#include "engine/engine.h"
#include "preferences.h"
#include "runtime/autostart.h"
#include "runtime/listenaddress.h"
#include "service/configservice.h"
#include "store/keyvault.h"
#include "util/secrets.h"

#include <QAction>
#include <QApplication>
#include <QCheckBox>
#include <QClipboard>
#include <QComboBox>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QMessageBox>
#include <QPointer>
#include <QPushButton>
#include <QSpinBox>
#include <QThreadPool>
#include <QVBoxLayout>

#include <algorithm>
#include <functional>

namespace route {

SettingsPage::SettingsPage(Engine *engine, ConfigService *service, QWidget *parent)
    : QWidget(parent)
    , m_engine(engine)
    , m_service(service)
    , m_address(new QLineEdit)
    , m_addressMessage(new QLabel)
    , m_token(new QLineEdit)
    , m_policy(new QComboBox)
    , m_timeout(new QSpinBox)
    , m_streamTimeout(new QSpinBox)
    , m_idleTimeout(new QSpinBox)
    , m_recordBodies(new QCheckBox(tr("Record request and response bodies")))
    , m_allowedHosts(new QLineEdit)
    , m_allowedOrigins(new QLineEdit)
    , m_metricsPublic(new QCheckBox(tr("Serve /metrics without the token")))
    , m_keysStatus(new QLabel)
    , m_keysIn(new QPushButton(tr("Move keys to the &keychain")))
    , m_keysOut(new QPushButton(tr("Move keys back to the &database")))
    , m_autostart(new QCheckBox(tr("Start at login")))
    , m_language(new QComboBox)
{
    setUpChoices();
    layOut(makeAddressRow(), makeTokenRow(), makeKeysRow());
    load();
    saveOnChange();
    checkKeychain();
}

QLayout *SettingsPage::makeKeysRow()
{
    m_keysStatus->setWordWrap(true);
    m_keysIn->setToolTip(tr("Keep every API key in the system keychain (Secret Service: GNOME Keyring, KWallet, "
                            "KeePassXC); the database then holds only a reference, and keys added later go there too"));
    m_keysOut->setToolTip(tr("Put every key back into the database, where the headless mode and hand edits of the "
                             "table expect it"));
    connect(m_keysIn, &QPushButton::clicked, this, [this] { moveKeysToKeychain(true); });
    connect(m_keysOut, &QPushButton::clicked, this, [this] { moveKeysToDatabase(true); });
    auto *buttons = new QHBoxLayout;
    buttons->addWidget(m_keysIn);
    buttons->addWidget(m_keysOut);
    buttons->addStretch(1);
    auto *row = new QVBoxLayout;
    row->addWidget(m_keysStatus);
    row->addLayout(buttons);
    return row;
}

void SettingsPage::checkKeychain()
{
    // A Secret Service that is missing can take D-Bus's own timeout to say
    // so: asked on a pool thread, never on the GUI's.
    QPointer<SettingsPage> self(this);
    QThreadPool::globalInstance()->start([self] {
        const Status available = KeyVault::availability();
        QMetaObject::invokeMethod(
            qApp,
            [self, available] {
                if (!self)
                    return;
                self->m_keychainChecked = true;
                self->m_keychainProblem = available.ok() ? QString() : available.error();
                self->showKeys();
            },
            Qt::QueuedConnection);
    });
}

void SettingsPage::showKeys()
{
    const auto snapshot = m_engine->snapshots()->current();
    const qsizetype total = snapshot->upstreams.size();
    const qsizetype inKeychain = std::count_if(
        snapshot->upstreams.cbegin(), snapshot->upstreams.cend(), [](const Upstream &u) { return !u.skRef.isEmpty(); });
    QString text = inKeychain == 0
        ? tr("Keys are kept in the database (%n key(s)).", nullptr, int(total))
        : tr("In the system keychain: %1 of %n key(s).", nullptr, int(total)).arg(inKeychain);
    if (!m_keychainChecked)
        text += QLatin1Char(' ') + tr("Asking the system keychain…");
    else if (!m_keychainProblem.isEmpty()) // "the system keychain is not available: …", as a sentence
        text += QLatin1Char(' ') + m_keychainProblem.left(1).toUpper() + m_keychainProblem.mid(1) + QLatin1Char('.');
    m_keysStatus->setText(text);
    m_keysIn->setEnabled(m_keychainChecked && m_keychainProblem.isEmpty() && inKeychain < total);
    m_keysOut->setEnabled(inKeychain > 0);
}

void SettingsPage::moveKeysToKeychain(bool ask)
{
    if (ask
        && QMessageBox::question(this, tr("Keys in the keychain"),
               tr("Move every API key into the system keychain? The database keeps only a reference; the headless "
                  "mode and other machines cannot read the keys from there."))
            != QMessageBox::Yes)
        return;
    int moved = 0;
    const ChangeResult r = runMove([this, &moved] { return m_service->moveKeysToKeychain(&moved); });
    reportMove(
        ask, tr("Keys in the keychain"), r, moved, tr("%n key(s) moved into the system keychain.", nullptr, moved));
}

void SettingsPage::moveKeysToDatabase(bool ask)
{
    int moved = 0;
    const ChangeResult r = runMove([this, &moved] { return m_service->moveKeysToDatabase(&moved); });
    reportMove(
        ask, tr("Keys in the database"), r, moved, tr("%n key(s) moved back into the database.", nullptr, moved));
}

// A move asks the keychain once per key: a moment, under a wait cursor.
ChangeResult SettingsPage::runMove(const std::function<ChangeResult()> &move)
{
    QApplication::setOverrideCursor(Qt::WaitCursor);
    const ChangeResult r = move();
    QApplication::restoreOverrideCursor();
    showKeys();
    return r;
}

void SettingsPage::reportMove(bool ask, const QString &title, const ChangeResult &r, int moved, const QString &done)
{
    if (!r.ok())
        QMessageBox::warning(this, title, tr("%n key(s) moved; then: %1", nullptr, moved).arg(r.error->translated()));
    else if (ask)
        QMessageBox::information(this, title, done);
}

QLayout *SettingsPage::makeAddressRow()
{
    auto *apply = new QPushButton(tr("&Apply"));
    apply->setToolTip(tr("Move the proxy to this address; requests in flight finish on the old one"));
    m_address->setToolTip(tr("HOST:PORT, :PORT for all interfaces, or [::1]:PORT"));
    connect(apply, &QPushButton::clicked, this, &SettingsPage::applyAddress);
    connect(m_address, &QLineEdit::returnPressed, this, &SettingsPage::applyAddress);
    m_addressMessage->setWordWrap(true);
    m_addressMessage->setVisible(false);
    auto *addressRow = new QHBoxLayout;
    addressRow->addWidget(m_address, 1);
    addressRow->addWidget(apply);
    return addressRow;
}

QLayout *SettingsPage::makeTokenRow()
{
    m_token->setReadOnly(true);
    m_token->setEchoMode(QLineEdit::Password);
    m_token->setToolTip(tr("Clients use this as their API key"));
    QAction *show
        = m_token->addAction(QIcon::fromTheme(QStringLiteral("view-reveal-symbolic")), QLineEdit::TrailingPosition);
    show->setCheckable(true);
    show->setToolTip(tr("Show the token"));
    connect(show, &QAction::toggled, this,
        [this](bool on) { m_token->setEchoMode(on ? QLineEdit::Normal : QLineEdit::Password); });
    auto *copy = new QPushButton(tr("&Copy"));
    copy->setToolTip(tr("Copy the token to the clipboard"));
    connect(copy, &QPushButton::clicked, this, [this] { QApplication::clipboard()->setText(m_token->text()); });
    auto *regenerate = new QPushButton(tr("&Regenerate…"));
    regenerate->setToolTip(tr("Make a new random token; clients with the old one are refused"));
    connect(regenerate, &QPushButton::clicked, this, [this] { regenerateToken(true); });
    auto *tokenRow = new QHBoxLayout;
    tokenRow->addWidget(m_token, 1);
    tokenRow->addWidget(copy);
    tokenRow->addWidget(regenerate);
    return tokenRow;
}

void SettingsPage::setUpChoices()
{
    const QList<std::pair<Policy, QString>> policies = {{Policy::Order, tr("In order (first healthy key)")},
        {Policy::RoundRobin, tr("Round robin")}, {Policy::Random, tr("Random")}, {Policy::Weighted, tr("Weighted")},
        {Policy::LeastInflight, tr("Fewest requests in flight")}, {Policy::LowestLatency, tr("Lowest latency")}};
    for (const auto &[policy, label] : policies)
        m_policy->addItem(label, QString(Vocabulary::name(policy)));
    m_policy->setToolTip(tr("How the proxy picks the key for each request"));
    for (QSpinBox *box : {m_timeout, m_streamTimeout, m_idleTimeout}) {
        box->setRange(1, 3600);
        box->setSuffix(tr(" s"));
    }
    m_timeout->setToolTip(tr("How long to wait for an upstream's response headers before trying the next one"));
    m_streamTimeout->setToolTip(tr("The same for streamed requests (\"stream\": true)"));
    m_idleTimeout->setToolTip(tr("How long a response may stay silent before it is ended as failed"));
    m_recordBodies->setToolTip(tr("Keep the first 64 KiB of each request and answer in the records (off by default)"));
    m_autostart->setToolTip(tr("Start openai-api-route when you log in"));
    m_allowedHosts->setPlaceholderText(tr("e.g. proxy.lan, my-laptop.local"));
    m_allowedHosts->setToolTip(tr("Host names, comma-separated, that clients may use for this proxy besides localhost "
                                  "and 127.0.0.1; any other is refused, so a web page cannot reach it by DNS "
                                  "rebinding"));
    m_allowedOrigins->setPlaceholderText(tr("e.g. https://tool.example"));
    m_allowedOrigins->setToolTip(tr("Web page origins, comma-separated, that may use the admin API from a browser "
                                    "besides pages on localhost"));
    m_metricsPublic->setToolTip(
        tr("For a Prometheus scraper without the token; the figures give upstream IDs and model names, never keys"));
    m_language->addItem(tr("System language"), QString());
    m_language->addItem(QStringLiteral("English"), QStringLiteral("en"));
    m_language->addItem(QStringLiteral("简体中文"), QStringLiteral("zh_CN"));
    m_language->setToolTip(tr("Applies at the next start"));
}

void SettingsPage::layOut(QLayout *addressRow, QLayout *tokenRow, QLayout *keysRow)
{
    auto *form = new QFormLayout(this);
    // Rows holding a layout get their label (and its shortcut) by hand.
    auto *addressLabel = new QLabel(tr("Listen &address:"));
    addressLabel->setBuddy(m_address);
    auto *tokenLabel = new QLabel(tr("Client &token:"));
    tokenLabel->setBuddy(m_token);
    form->addRow(addressLabel, addressRow);
    form->addRow(QString(), m_addressMessage);
    form->addRow(tokenLabel, tokenRow);
    form->addRow(tr("&Policy:"), m_policy);
    form->addRow(tr("Response &timeout:"), m_timeout);
    form->addRow(tr("&Stream timeout:"), m_streamTimeout);
    form->addRow(tr("&Idle timeout:"), m_idleTimeout);
    form->addRow(QString(), m_recordBodies);
    form->addRow(tr("Allowed &hosts:"), m_allowedHosts);
    form->addRow(tr("Allowed &origins:"), m_allowedOrigins);
    form->addRow(QString(), m_metricsPublic);
    form->addRow(tr("API keys:"), keysRow);
    form->addRow(QString(), m_autostart);
    form->addRow(tr("&Language:"), m_language);
}

// Every control saves as it changes, through the ConfigService (or the
// preferences, for what is the GUI's own).
void SettingsPage::saveOnChange()
{
    connect(m_policy, &QComboBox::currentIndexChanged, this, &SettingsPage::saveSettings);
    for (QSpinBox *box : {m_timeout, m_streamTimeout, m_idleTimeout})
        connect(box, &QSpinBox::editingFinished, this, &SettingsPage::saveSettings);
    connect(m_recordBodies, &QCheckBox::toggled, this, &SettingsPage::saveSettings);
    connect(m_metricsPublic, &QCheckBox::toggled, this, &SettingsPage::saveSettings);
    for (QLineEdit *edit : {m_allowedHosts, m_allowedOrigins})
        connect(edit, &QLineEdit::editingFinished, this, &SettingsPage::saveSettings);
    connect(m_autostart, &QCheckBox::toggled, this, [this](bool on) {
        if (!Autostart::setEnabled(on, QCoreApplication::applicationFilePath()))
            QMessageBox::warning(this, tr("Start at login"), tr("Cannot write %1.").arg(Autostart::entryPath()));
    });
    connect(m_language, &QComboBox::currentIndexChanged, this,
        [this] { Preferences::setValue(Preferences::Key::Language, m_language->currentData()); });
    connect(m_engine->snapshots(), &SnapshotHolder::changed, this, &SettingsPage::load, Qt::QueuedConnection);
}

void SettingsPage::load()
{
    m_loading = true;
    const auto snapshot = m_engine->snapshots()->current();
    const Settings &s = snapshot->settings;
    if (!m_address->hasFocus())
        m_address->setText(m_engine->listenAddress());
    m_token->setText(s.tokens.value(0));
    m_policy->setCurrentIndex(qMax(0, m_policy->findData(QString(Vocabulary::name(s.policy)))));
    m_timeout->setValue(s.timeoutSec);
    m_streamTimeout->setValue(s.streamTimeoutSec);
    m_idleTimeout->setValue(s.idleTimeoutSec);
    m_recordBodies->setChecked(s.recordBodies);
    if (!m_allowedHosts->hasFocus())
        m_allowedHosts->setText(s.allowedHosts.join(QStringLiteral(", ")));
    if (!m_allowedOrigins->hasFocus())
        m_allowedOrigins->setText(s.allowedOrigins.join(QStringLiteral(", ")));
    m_metricsPublic->setChecked(s.metricsPublic);
    showKeys();
    m_autostart->setChecked(Autostart::isEnabled());
    m_language->setCurrentIndex(qMax(0, m_language->findData(Preferences::value(Preferences::Key::Language))));
    m_loading = false;
}

void SettingsPage::applyAddress()
{
    const auto parsed = ListenAddress::parse(m_address->text());
    Status status
        = parsed ? m_engine->relisten(parsed.value().address, parsed.value().port) : Status::failure(parsed.error());
    m_addressMessage->setVisible(true);
    if (!status) {
        m_addressMessage->setStyleSheet(QStringLiteral("color: #b00020;"));
        m_addressMessage->setText(status.error());
        return;
    }
    m_addressMessage->setStyleSheet(QString());
    m_addressMessage->setText(tr("Listening on %1").arg(m_engine->baseUrl()));
}

void SettingsPage::regenerateToken(bool ask)
{
    if (ask
        && QMessageBox::question(this, tr("Regenerate token"),
               tr("Make a new token? Every client that uses the current one is refused until you "
                  "give it the new one."))
            != QMessageBox::Yes)
        return;
    const QString token = Secrets::generateToken();
    if (!m_service->setTokens({token}).ok()) {
        QMessageBox::warning(this, tr("Regenerate token"), tr("The new token could not be stored."));
        return;
    }
    load();
}

void SettingsPage::saveSettings()
{
    if (m_loading)
        return;
    Settings s = m_engine->snapshots()->current()->settings;
    s.policy = Vocabulary::parsePolicy(m_policy->currentData().toString()).value_or(Policy::Order);
    s.timeoutSec = m_timeout->value();
    s.streamTimeoutSec = m_streamTimeout->value();
    s.idleTimeoutSec = m_idleTimeout->value();
    s.recordBodies = m_recordBodies->isChecked();
    const auto list = [](const QString &text, bool lower) {
        QStringList out;
        for (const QString &item : text.split(QLatin1Char(','), Qt::SkipEmptyParts))
            if (!item.trimmed().isEmpty())
                out << (lower ? item.trimmed().toLower() : item.trimmed());
        return out;
    };
    s.allowedHosts = list(m_allowedHosts->text(), true);
    s.allowedOrigins = list(m_allowedOrigins->text(), false);
    s.metricsPublic = m_metricsPublic->isChecked();
    if (const ChangeResult r = m_service->saveSettings(s); !r.ok())
        QMessageBox::warning(this, tr("Settings"), tr("The settings were not saved: %1").arg(r.error->translated()));
}

} // namespace route
