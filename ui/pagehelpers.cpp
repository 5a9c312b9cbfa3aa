#include "pagehelpers.h"

#include "engine/engine.h"

#include <QTableWidgetItem>
#include <QTimer>
#include <QWidget>

namespace route {

namespace PageHelpers {

QTableWidgetItem *readOnlyCell(const QString &text, bool number)
{
    auto *item = new QTableWidgetItem(text);
    item->setFlags(Qt::ItemIsSelectable | Qt::ItemIsEnabled);
    if (number)
        item->setTextAlignment(Qt::AlignRight | Qt::AlignVCenter);
    return item;
}

void followRecords(QWidget *page, Engine *engine, void (*refresh)(QWidget *))
{
    auto *later = new QTimer(page);
    later->setSingleShot(true);
    later->setInterval(3000);
    QObject::connect(later, &QTimer::timeout, page, [page, refresh] {
        if (page->isVisible())
            refresh(page);
    });
    QObject::connect(engine, &Engine::recordsWritten, later, [later] {
        if (!later->isActive())
            later->start();
    });
}

} // namespace PageHelpers

} // namespace route
