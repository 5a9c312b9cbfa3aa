#include "appspage.h"

#include "connectdialog.h"
#include "domain/snapshot.h"
#include "engine/engine.h"
#include "pagehelpers.h"
#include "service/configservice.h"
#include "store/database.h"
#include "store/recordrepository.h"
#include "store/tokenrepository.h"

#include <QCheckBox>
#include <QDateTimeEdit>
#include <QDialogButtonBox>
#include <QDoubleSpinBox>
#include <QFormLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QMessageBox>
#include <QSpinBox>
#include <QTableWidget>
#include <QToolBar>
#include <QVBoxLayout>

namespace route {

using PageHelpers::readOnlyCell;

namespace {

QString limitsOf(const AppToken &t)
{
    QStringList parts;
    if (!t.allow.isEmpty())
        parts << AppsPage::tr("models %1").arg(t.allow.join(QStringLiteral(", ")));
    if (t.rpm > 0)
        parts << AppsPage::tr("%1/min").arg(t.rpm);
    if (t.dailyTokenLimit > 0)
        parts << AppsPage::tr("%L1 tokens/day").arg(t.dailyTokenLimit);
    if (t.monthlyBudgetUsd > 0)
        parts << AppsPage::tr("$%1/month").arg(t.monthlyBudgetUsd, 0, 'f', 2);
    if (t.expiresAt.isValid())
        parts << AppsPage::tr("until %1").arg(t.expiresAt.toLocalTime().toString(QStringLiteral("yyyy-MM-dd")));
    return parts.isEmpty() ? AppsPage::tr("none") : parts.join(QStringLiteral(" · "));
}

} // namespace

AppTokenDialog::AppTokenDialog(const AppToken &token, QWidget *parent)
    : QDialog(parent)
    , m_name(new QLineEdit(token.name))
    , m_allow(new QLineEdit(token.allow.join(QStringLiteral(", "))))
    , m_rpm(new QSpinBox)
    , m_daily(new QSpinBox)
    , m_budget(new QDoubleSpinBox)
    , m_expires(new QCheckBox(tr("Expires on")))
    , m_expiresAt(new QDateTimeEdit)
    , m_enabled(new QCheckBox(tr("Enabled")))
{
    setWindowTitle(token.id > 0 ? tr("App token %1").arg(token.id) : tr("New app token"));
    m_name->setPlaceholderText(tr("the app or person, e.g. claude-code or alice"));
    m_allow->setPlaceholderText(tr("empty = every model; e.g. gpt-4o-mini*, deepseek-*"));
    m_rpm->setRange(0, 1000000);
    m_rpm->setSpecialValueText(tr("no limit"));
    m_rpm->setSuffix(tr(" per minute"));
    m_rpm->setValue(token.rpm);
    m_daily->setRange(0, 2000000000);
    m_daily->setSpecialValueText(tr("no limit"));
    m_daily->setSuffix(tr(" thousand"));
    m_daily->setValue(int(token.dailyTokenLimit / 1000));
    m_budget->setRange(0, 1000000);
    m_budget->setDecimals(2);
    m_budget->setPrefix(QStringLiteral("$"));
    m_budget->setSpecialValueText(tr("no limit"));
    m_budget->setValue(token.monthlyBudgetUsd);
    m_expires->setChecked(token.expiresAt.isValid());
    m_expiresAt->setCalendarPopup(true);
    m_expiresAt->setDateTime(
        token.expiresAt.isValid() ? token.expiresAt.toLocalTime() : QDateTime::currentDateTime().addDays(30));
    m_expiresAt->setEnabled(m_expires->isChecked());
    connect(m_expires, &QCheckBox::toggled, m_expiresAt, &QWidget::setEnabled);
    m_enabled->setChecked(token.enabled);

    auto *form = new QFormLayout;
    form->addRow(tr("&Name:"), m_name);
    form->addRow(tr("&Models:"), m_allow);
    form->addRow(tr("&Requests:"), m_rpm);
    form->addRow(tr("&Tokens per day (UTC):"), m_daily);
    form->addRow(tr("&Budget per month (UTC):"), m_budget);
    form->addRow(m_expires, m_expiresAt);
    form->addRow(QString(), m_enabled);
    auto *buttons = new QDialogButtonBox(QDialogButtonBox::Save | QDialogButtonBox::Cancel);
    connect(buttons, &QDialogButtonBox::accepted, this, &QDialog::accept);
    connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
    auto *layout = new QVBoxLayout(this);
    layout->addLayout(form);
    layout->addWidget(buttons);
    setMinimumWidth(440);
}

AppTokenPatch AppTokenDialog::patch() const
{
    AppTokenPatch p;
    p.name = m_name->text().trimmed();
    QStringList allow;
    for (const QString &s : m_allow->text().split(QLatin1Char(','), Qt::SkipEmptyParts))
        if (!s.trimmed().isEmpty())
            allow << s.trimmed();
    p.allow = allow;
    p.rpm = m_rpm->value();
    p.dailyTokenLimit = qint64(m_daily->value()) * 1000;
    p.monthlyBudgetUsd = m_budget->value();
    p.expiresAt = m_expires->isChecked() ? m_expiresAt->dateTime().toUTC() : QDateTime();
    p.enabled = m_enabled->isChecked();
    return p;
}

AppsPage::AppsPage(Engine *engine, std::shared_ptr<DbConnection> db, ConfigService *service, QWidget *parent)
    : QWidget(parent)
    , m_engine(engine)
    , m_db(std::move(db))
    , m_service(service)
    , m_tokens(new QTableWidget(0, 8))
    , m_apps(new QTableWidget(0, 4))
    , m_message(new QLabel)
{
    auto *bar = new QToolBar;
    bar->setToolButtonStyle(Qt::ToolButtonTextBesideIcon);
    bar->addAction(
           QIcon::fromTheme(QStringLiteral("list-add")), tr("&Add token…"), this, &AppsPage::addTokenInteractively)
        ->setToolTip(tr("A token for one app or person, with its own limits"));
    bar->addAction(QIcon::fromTheme(QStringLiteral("document-edit")), tr("&Limits…"), this, &AppsPage::editSelected)
        ->setToolTip(tr("Models, requests per minute, tokens per day, budget, expiry"));
    bar->addAction(QIcon::fromTheme(QStringLiteral("media-playback-pause")), tr("Enable/&disable"), this,
        &AppsPage::toggleSelected);
    bar->addAction(QIcon::fromTheme(QStringLiteral("list-remove")), tr("&Delete"), this, &AppsPage::deleteSelected);
    bar->addSeparator();
    bar->addAction(
           QIcon::fromTheme(QStringLiteral("network-connect")), tr("&Connect an app…"), this, &AppsPage::connectApp)
        ->setToolTip(tr("Settings to copy for Claude Code, Codex, the OpenAI SDKs and other apps"));

    m_tokens->setHorizontalHeaderLabels({tr("ID"), tr("Name"), tr("Token"), tr("On"), tr("Limits"), tr("Tokens today"),
        tr("This month"), tr("Last used")});
    m_apps->setHorizontalHeaderLabels({tr("App"), tr("Requests"), tr("Tokens"), tr("Cost")});
    for (QTableWidget *t : {m_tokens, m_apps}) {
        t->setSelectionBehavior(QAbstractItemView::SelectRows);
        t->setSelectionMode(QAbstractItemView::SingleSelection);
        t->verticalHeader()->hide();
        t->setAlternatingRowColors(true);
        t->horizontalHeader()->setStretchLastSection(true);
    }
    m_tokens->setColumnWidth(0, 44);
    m_tokens->setColumnWidth(4, 260);
    connect(m_tokens, &QTableWidget::cellDoubleClicked, this, &AppsPage::editSelected);
    m_message->setWordWrap(true);
    m_message->setVisible(false);
    auto *seen = new QLabel(tr("Apps seen this month (UTC): the program behind each request, or its User-Agent"));
    auto *layout = new QVBoxLayout(this);
    layout->addWidget(bar);
    layout->addWidget(m_message);
    layout->addWidget(m_tokens, 3);
    layout->addWidget(seen);
    layout->addWidget(m_apps, 2);
    connect(engine->snapshots(), &SnapshotHolder::changed, this, &AppsPage::refresh, Qt::QueuedConnection);
    PageHelpers::followRecords(this, engine, [](QWidget *page) { static_cast<AppsPage *>(page)->refresh(); });
    refresh();
}

void AppsPage::refresh()
{
    const qint64 selected = selectedId();
    const QDateTime now = QDateTime::currentDateTimeUtc();
    const auto tokens = TokenRepository(m_db->db()).list();
    const QHash<qint64, TokenSpend> spend = TokenRepository(m_db->db()).spend(now);
    m_tokens->setRowCount(0);
    for (const AppToken &t : tokens.value_or(QList<AppToken>())) {
        const int row = m_tokens->rowCount();
        m_tokens->insertRow(row);
        const TokenSpend s = spend.value(t.id);
        m_tokens->setItem(row, 0, readOnlyCell(QString::number(t.id), true));
        m_tokens->setItem(row, 1, readOnlyCell(t.name));
        m_tokens->setItem(row, 2, readOnlyCell(t.prefix + QChar(0x2026)));
        m_tokens->setItem(row, 3, readOnlyCell(t.enabled ? tr("yes") : tr("no")));
        m_tokens->setItem(row, 4, readOnlyCell(limitsOf(t)));
        m_tokens->setItem(row, 5, readOnlyCell(QStringLiteral("%L1").arg(s.tokensToday), true));
        m_tokens->setItem(row, 6, readOnlyCell(QStringLiteral("$%1").arg(s.costThisMonthUsd, 0, 'f', 4), true));
        m_tokens->setItem(row, 7,
            readOnlyCell(t.lastUsedAt.isValid()
                    ? t.lastUsedAt.toLocalTime().toString(QStringLiteral("yyyy-MM-dd HH:mm"))
                    : tr("never")));
        if (t.id == selected)
            m_tokens->selectRow(row);
    }
    const QDate today = now.date();
    const auto apps = RecordRepository(m_db->db()).usage(QDate(today.year(), today.month(), 1), today, UsageBy::App);
    m_apps->setRowCount(0);
    for (const UsageRow &r : apps.value_or(QList<UsageRow>())) {
        const int row = m_apps->rowCount();
        m_apps->insertRow(row);
        m_apps->setItem(row, 0, readOnlyCell(r.key.isEmpty() ? tr("(unknown)") : r.key));
        m_apps->setItem(row, 1, readOnlyCell(QStringLiteral("%L1").arg(r.requests), true));
        m_apps->setItem(row, 2, readOnlyCell(QStringLiteral("%L1").arg(r.promptTokens + r.completionTokens), true));
        m_apps->setItem(row, 3, readOnlyCell(QStringLiteral("$%1").arg(r.costUsd, 0, 'f', 4), true));
    }
}

qint64 AppsPage::selectedId() const
{
    const int row = m_tokens->currentRow();
    return row >= 0 && m_tokens->item(row, 0) ? m_tokens->item(row, 0)->text().toLongLong() : 0;
}

void AppsPage::showMessage(const QString &text, bool error)
{
    m_message->setText(text);
    m_message->setStyleSheet(error ? QStringLiteral("color: #b00020;") : QString());
    m_message->setVisible(!text.isEmpty());
}

QString AppsPage::addToken(const QString &name, const AppTokenPatch &limits)
{
    QString token;
    const ChangeResult r = m_service->createAppToken(name, limits, &token);
    if (!r.ok()) {
        showMessage(r.error->translated(), true);
        return QString();
    }
    refresh();
    showMessage(tr("Added app token %1 for %2.").arg(r.id).arg(name), false);
    return token;
}

void AppsPage::addTokenInteractively()
{
    AppTokenDialog dialog(AppToken(), this);
    if (dialog.exec() != QDialog::Accepted)
        return;
    const AppTokenPatch p = dialog.patch();
    const QString token = addToken(p.name.value_or(QString()), p);
    if (token.isEmpty())
        return;
    ConnectDialog connect(m_engine->baseUrl(), token, true, this);
    connect.exec();
}

void AppsPage::editSelected()
{
    const qint64 id = selectedId();
    const auto token = id > 0 ? TokenRepository(m_db->db()).get(id) : std::nullopt;
    if (!token)
        return;
    AppTokenDialog dialog(*token, this);
    if (dialog.exec() != QDialog::Accepted)
        return;
    const ChangeResult r = m_service->updateAppToken(id, dialog.patch());
    showMessage(r.ok() ? QString() : r.error->translated(), !r.ok());
    refresh();
}

void AppsPage::toggleSelected()
{
    const qint64 id = selectedId();
    const auto token = id > 0 ? TokenRepository(m_db->db()).get(id) : std::nullopt;
    if (!token)
        return;
    AppTokenPatch p;
    p.enabled = !token->enabled;
    const ChangeResult r = m_service->updateAppToken(id, p);
    showMessage(r.ok() ? QString() : r.error->translated(), !r.ok());
    refresh();
}

void AppsPage::deleteSelected()
{
    const qint64 id = selectedId();
    if (id <= 0)
        return;
    if (QMessageBox::question(
            this, tr("Delete app token"), tr("Delete app token %1? Apps that use it are refused from now on.").arg(id))
        != QMessageBox::Yes)
        return;
    const ChangeResult r = m_service->deleteAppToken(id);
    showMessage(r.ok() ? QString() : r.error->translated(), !r.ok());
    refresh();
}

void AppsPage::connectApp()
{
    const QStringList seed = m_engine->snapshots()->current()->settings.tokens;
    ConnectDialog dialog(
        m_engine->baseUrl(), seed.isEmpty() ? QStringLiteral("(any token)") : seed.first(), false, this);
    dialog.exec();
}

void AppsPage::showEvent(QShowEvent *event)
{
    QWidget::showEvent(event);
    refresh();
}

} // namespace route
