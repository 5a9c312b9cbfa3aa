#include "modelsdialog.h"

#include "service/configservice.h"
#include "store/database.h"
#include "store/upstreamrepository.h"

#include <QCompleter>
#include <QDialogButtonBox>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QListWidget>
#include <QPointer>
#include <QPushButton>
#include <QStyledItemDelegate>
#include <QTableWidget>
#include <QVBoxLayout>

namespace route {

namespace {

// The "Sent as" cells complete from the upstream's own model names.
class ModelNameDelegate final : public QStyledItemDelegate
{
public:
    ModelNameDelegate(const QListWidget *models, QObject *parent) : QStyledItemDelegate(parent), m_models(models) { }

    QWidget *createEditor(QWidget *parent, const QStyleOptionViewItem &, const QModelIndex &) const override
    {
        auto *edit = new QLineEdit(parent);
        QStringList names;
        for (int i = 0; i < m_models->count(); ++i)
            names << m_models->item(i)->text();
        auto *completer = new QCompleter(names, edit);
        completer->setCaseSensitivity(Qt::CaseInsensitive);
        completer->setFilterMode(Qt::MatchContains);
        edit->setCompleter(completer);
        return edit;
    }

private:
    const QListWidget *m_models;
};

} // namespace

ModelsDialog::ModelsDialog(ConfigService *service, std::shared_ptr<DbConnection> db, qint64 id, QWidget *parent)
    : QDialog(parent)
    , m_service(service)
    , m_db(std::move(db))
    , m_id(id)
    , m_status(new QLabel)
    , m_filter(new QLineEdit)
    , m_models(new QListWidget)
    , m_fetch(new QPushButton(tr("&Fetch now")))
    , m_allow(new QLineEdit)
    , m_aliases(new QTableWidget(0, 2))
    , m_message(new QLabel)
{
    setWindowTitle(tr("Models of upstream %1").arg(id));
    m_status->setWordWrap(true);
    m_status->setTextFormat(Qt::PlainText);
    m_filter->setPlaceholderText(tr("Filter"));
    m_filter->setClearButtonEnabled(true);
    m_models->setSelectionMode(QAbstractItemView::ExtendedSelection);
    m_models->setToolTip(tr("The models this upstream listed; double-click to add one to \"Only models\""));
    auto *allowButton = new QPushButton(tr("Allow &selected"));
    allowButton->setToolTip(tr("Add the selected models to \"Only models\""));
    m_allow->setPlaceholderText(tr("empty = every model"));
    m_allow->setToolTip(tr("Comma-separated models (or /v1/ paths) this key may serve; a trailing * matches any "
                           "suffix"));
    m_aliases->setHorizontalHeaderLabels({tr("Client asks for"), tr("Sent as")});
    m_aliases->horizontalHeader()->setSectionResizeMode(QHeaderView::Stretch);
    m_aliases->verticalHeader()->hide();
    m_aliases->setItemDelegateForColumn(1, new ModelNameDelegate(m_models, this));
    m_aliases->setToolTip(tr("gpt-4o → openai/gpt-4o, or a glob: gpt-* → openai/gpt-* sends gpt-4.1 as "
                             "openai/gpt-4.1. An exact name wins over a glob, a longer glob over a shorter one."));
    auto *addAliasButton = new QPushButton(tr("&Add alias"));
    auto *removeAliasButton = new QPushButton(tr("&Remove alias"));
    m_message->setWordWrap(true);
    m_message->setStyleSheet(QStringLiteral("color: #b00020;"));
    m_message->setVisible(false);

    auto *listRow = new QHBoxLayout;
    listRow->addWidget(m_filter, 1);
    listRow->addWidget(allowButton);
    listRow->addWidget(m_fetch);
    auto *aliasButtons = new QHBoxLayout;
    aliasButtons->addWidget(addAliasButton);
    aliasButtons->addWidget(removeAliasButton);
    aliasButtons->addStretch(1);
    auto *form = new QFormLayout;
    form->addRow(tr("Only &models:"), m_allow);
    auto *buttons = new QDialogButtonBox(QDialogButtonBox::Save | QDialogButtonBox::Cancel);
    auto *layout = new QVBoxLayout(this);
    layout->addWidget(m_status);
    layout->addLayout(listRow);
    layout->addWidget(m_models, 1);
    layout->addLayout(form);
    layout->addWidget(new QLabel(tr("Aliases:")));
    layout->addWidget(m_aliases, 1);
    layout->addLayout(aliasButtons);
    layout->addWidget(m_message);
    layout->addWidget(buttons);

    connect(m_filter, &QLineEdit::textChanged, this, &ModelsDialog::filterModels);
    connect(allowButton, &QPushButton::clicked, this, &ModelsDialog::allowSelected);
    connect(m_models, &QListWidget::itemDoubleClicked, this, &ModelsDialog::allowSelected);
    connect(m_fetch, &QPushButton::clicked, this, &ModelsDialog::fetchNow);
    connect(addAliasButton, &QPushButton::clicked, this, [this] {
        addAlias();
        m_aliases->editItem(m_aliases->item(m_aliases->rowCount() - 1, 0));
    });
    connect(removeAliasButton, &QPushButton::clicked, this, [this] {
        if (m_aliases->currentRow() >= 0)
            m_aliases->removeRow(m_aliases->currentRow());
    });
    connect(buttons, &QDialogButtonBox::accepted, this, &ModelsDialog::accept);
    connect(buttons, &QDialogButtonBox::rejected, this, &ModelsDialog::reject);
    resize(560, 620);
    load();
}

void ModelsDialog::load()
{
    const std::optional<Upstream> u = UpstreamRepository(m_db->db()).get(m_id);
    if (!u) {
        m_status->setText(tr("Upstream %1 no longer exists.").arg(m_id));
        return;
    }
    showCatalog(*u);
    m_allow->setText(u->allow.join(QStringLiteral(", ")));
    m_aliases->setRowCount(0);
    for (const ModelMap::Entry &e : u->modelMap.entries())
        addAlias(e.from, e.to);
}

void ModelsDialog::showCatalog(const Upstream &u)
{
    m_models->clear();
    m_models->addItems(u.models);
    filterModels(m_filter->text());
    QString status = u.modelsFetchedAt.isValid()
        ? tr("%n model(s), fetched %1.", nullptr, int(u.models.size()))
              .arg(u.modelsFetchedAt.toLocalTime().toString(QStringLiteral("yyyy-MM-dd HH:mm")))
        : tr("The model list was not fetched yet.");
    if (!u.modelsError.isEmpty())
        status += QLatin1Char(' ') + tr("The last fetch failed: %1").arg(u.modelsError);
    m_status->setText(status);
}

void ModelsDialog::addAlias(const QString &from, const QString &to)
{
    const int row = m_aliases->rowCount();
    m_aliases->insertRow(row);
    m_aliases->setItem(row, 0, new QTableWidgetItem(from));
    m_aliases->setItem(row, 1, new QTableWidgetItem(to));
}

void ModelsDialog::fetchNow()
{
    m_fetch->setEnabled(false);
    m_status->setText(tr("Fetching the model list…"));
    QPointer<ModelsDialog> dialog(this);
    const bool started = m_service->refreshModels(m_id, [this, dialog](const ProbeResult &) {
        if (!dialog)
            return;
        m_fetch->setEnabled(true);
        if (const std::optional<Upstream> u = UpstreamRepository(m_db->db()).get(m_id))
            showCatalog(*u);
    });
    if (!started)
        m_status->setText(tr("Upstream %1 no longer exists.").arg(m_id));
}

void ModelsDialog::allowSelected()
{
    QStringList allow;
    for (const QString &s : m_allow->text().split(QLatin1Char(','), Qt::SkipEmptyParts))
        if (!s.trimmed().isEmpty())
            allow << s.trimmed();
    for (const QListWidgetItem *item : m_models->selectedItems())
        if (!allow.contains(item->text()))
            allow << item->text();
    m_allow->setText(allow.join(QStringLiteral(", ")));
}

void ModelsDialog::filterModels(const QString &text)
{
    for (int i = 0; i < m_models->count(); ++i)
        m_models->item(i)->setHidden(!m_models->item(i)->text().contains(text, Qt::CaseInsensitive));
}

void ModelsDialog::accept()
{
    QList<ModelMap::Entry> entries;
    for (int row = 0; row < m_aliases->rowCount(); ++row) {
        const QString from = m_aliases->item(row, 0) ? m_aliases->item(row, 0)->text().trimmed() : QString();
        const QString to = m_aliases->item(row, 1) ? m_aliases->item(row, 1)->text().trimmed() : QString();
        if (from.isEmpty() && to.isEmpty())
            continue; // an empty row left behind
        entries << ModelMap::Entry{from, to};
    }
    QString error;
    const std::optional<ModelMap> map = ModelMap::fromEntries(entries, &error);
    if (!map) {
        m_message->setText(tr("The aliases cannot be saved: every row needs both names, and '*' may only end a "
                              "name (and its target only when the name ends in it)."));
        m_message->setVisible(true);
        return;
    }
    UpstreamPatch patch;
    patch.modelMap = *map;
    QStringList allow;
    for (const QString &s : m_allow->text().split(QLatin1Char(','), Qt::SkipEmptyParts))
        if (!s.trimmed().isEmpty())
            allow << s.trimmed();
    patch.allow = allow;
    const ChangeResult out = m_service->updateUpstream(m_id, patch);
    if (!out.ok()) {
        m_message->setText(out.error->translated());
        m_message->setVisible(true);
        return;
    }
    QDialog::accept();
}

} // namespace route
