#pragma once

#include <QDialog>

class QComboBox;
class QPlainTextEdit;
class QTabWidget;

namespace route {

// "Connect an app" (SPEC §14): ready-to-copy settings for Claude Code, Codex
// CLI, the OpenAI SDKs and any OpenAI-compatible app, filled with this
// proxy's base URL and a token. Nothing here edits another program's files.
class ConnectDialog final : public QDialog
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(ConnectDialog)
public:
    // BASEURL: http://host:port/v1. TOKEN: the one to fill in (an app token
    // just made, or the seed's).
    // FRESH: the token was just made and is shown only now; say so.
    ConnectDialog(const QString &baseUrl, const QString &token, bool fresh = false, QWidget *parent = nullptr);

    // The settings text of each tab, as it is copied.
    QString snippet(int tab) const;
    QTabWidget *tabs() const { return m_tabs; }

    static QString claudeCode(const QString &origin, const QString &token);
    static QString codex(const QString &baseUrl);
    static QString openAiSdk(const QString &baseUrl, const QString &token);
    static QString anyApp(const QString &baseUrl, const QString &token);

private:
    QPlainTextEdit *addTab(const QString &title, const QString &hint, const QString &text);
    QTabWidget *m_tabs;
    QList<QPlainTextEdit *> m_texts;
};

} // namespace route
