#include "connectdialog.h"

#include <QAction>
#include <QApplication>
#include <QClipboard>
#include <QDialogButtonBox>
#include <QFontDatabase>
#include <QLabel>
#include <QLineEdit>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QTabWidget>
#include <QUrl>
#include <QVBoxLayout>

namespace route {

ConnectDialog::ConnectDialog(const QString &baseUrl, const QString &token, bool fresh, QWidget *parent)
    : QDialog(parent), m_tabs(new QTabWidget)
{
    setWindowTitle(tr("Connect an app"));
    auto *layout = new QVBoxLayout(this);
    if (fresh) {
        auto *notice = new QLabel(tr("The new token, shown only now (only its hash is kept): copy it before you "
                                     "close this window."));
        notice->setWordWrap(true);
        auto *tokenEdit = new QLineEdit(token);
        tokenEdit->setObjectName(QStringLiteral("token"));
        tokenEdit->setReadOnly(true);
        QAction *copyToken
            = tokenEdit->addAction(QIcon::fromTheme(QStringLiteral("edit-copy")), QLineEdit::TrailingPosition);
        copyToken->setToolTip(tr("Copy the token"));
        connect(copyToken, &QAction::triggered, this, [token] { QApplication::clipboard()->setText(token); });
        layout->addWidget(notice);
        layout->addWidget(tokenEdit);
    }
    QUrl origin(baseUrl);
    origin.setPath(QString());
    const QString host = origin.toString(QUrl::StripTrailingSlash);
    addTab(tr("Claude Code"), tr("In the shell that starts claude, or in ~/.claude/settings.json under \"env\":"),
        claudeCode(host, token));
    addTab(tr("Codex CLI"),
        tr("In ~/.codex/config.toml; then export ROUTE_TOKEN=%1 in the shell that starts codex:").arg(token),
        codex(baseUrl));
    addTab(tr("OpenAI SDKs"), tr("The official SDKs (Python, Node) read these variables:"), openAiSdk(baseUrl, token));
    addTab(tr("Any app"), tr("In the app's settings for an OpenAI-compatible provider:"), anyApp(baseUrl, token));

    auto *copy = new QPushButton(QIcon::fromTheme(QStringLiteral("edit-copy")), tr("&Copy"));
    copy->setToolTip(tr("Copy the settings of this tab"));
    connect(copy, &QPushButton::clicked, this,
        [this] { QApplication::clipboard()->setText(snippet(m_tabs->currentIndex())); });
    auto *buttons = new QDialogButtonBox(QDialogButtonBox::Close);
    buttons->addButton(copy, QDialogButtonBox::ActionRole);
    connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
    layout->addWidget(m_tabs);
    layout->addWidget(buttons);
    resize(620, 360);
}

QPlainTextEdit *ConnectDialog::addTab(const QString &title, const QString &hint, const QString &text)
{
    auto *page = new QWidget;
    auto *label = new QLabel(hint);
    label->setWordWrap(true);
    label->setTextFormat(Qt::PlainText);
    auto *edit = new QPlainTextEdit(text);
    edit->setReadOnly(true);
    edit->setFont(QFontDatabase::systemFont(QFontDatabase::FixedFont));
    auto *layout = new QVBoxLayout(page);
    layout->addWidget(label);
    layout->addWidget(edit, 1);
    m_tabs->addTab(page, title);
    m_texts << edit;
    return edit;
}

QString ConnectDialog::snippet(int tab) const
{
    return tab >= 0 && tab < m_texts.size() ? m_texts.at(tab)->toPlainText() : QString();
}

QString ConnectDialog::claudeCode(const QString &origin, const QString &token)
{
    return QStringLiteral("export ANTHROPIC_BASE_URL=%1\nexport ANTHROPIC_AUTH_TOKEN=%2\n").arg(origin, token);
}

QString ConnectDialog::codex(const QString &baseUrl)
{
    return QStringLiteral("model_provider = \"route\"\n\n[model_providers.route]\nname = \"openai-api-route\"\n"
                          "base_url = \"%1\"\nenv_key = \"ROUTE_TOKEN\"\nwire_api = \"responses\"\n")
        .arg(baseUrl);
}

QString ConnectDialog::openAiSdk(const QString &baseUrl, const QString &token)
{
    return QStringLiteral("export OPENAI_BASE_URL=%1\nexport OPENAI_API_KEY=%2\n").arg(baseUrl, token);
}

QString ConnectDialog::anyApp(const QString &baseUrl, const QString &token)
{
    return tr("Base URL (API host): %1\nAPI key: %2\nModels: the app's model list is this proxy's list of every "
              "upstream's models\n")
        .arg(baseUrl, token);
}

} // namespace route
