// The desktop front end, offscreen: models under QAbstractItemModelTester,
// edits through the widgets reaching the database and the proxy, validation,
// token regeneration and the no-tray fallback.
#include "addupstreamdialog.h"
#include "appcontroller.h"
#include "domain/snapshot.h"
#include "engine/engine.h"
#include "fakeupstream.h"
#include "managerwindow.h"
#include "models/requestlogmodel.h"
#include "models/upstreamtablemodel.h"
#include "rawhttp.h"
#include "runtime/commandline.h"
#include "service/configservice.h"
#include "settingspage.h"
#include "store/upstreamrepository.h"
#include "testengine.h"
#include "traycontroller.h"
#include "upstreamspage.h"

#include <QAbstractItemModelTester>
#include <QApplication>
#include <QLabel>
#include <QLineEdit>
#include <QMenu>
#include <QMessageBox>
#include <QSignalSpy>
#include <QStandardPaths>
#include <QSystemTrayIcon>
#include <QTabWidget>
#include <QTableView>
#include <QTcpServer>
#include <QTest>
#include <QTranslator>

using namespace route; // test code reads like code inside the project

class TestGui : public QObject
{
    Q_OBJECT

    std::unique_ptr<TestEngine> m_env;
    std::unique_ptr<FakeUpstream> m_upstream;
    std::shared_ptr<DbConnection> m_db;

private Q_SLOTS:
    void initTestCase() { QStandardPaths::setTestModeEnabled(true); }

    void init()
    {
        m_env = std::make_unique<TestEngine>();
        QVERIFY(m_env->start());
        m_upstream = std::make_unique<FakeUpstream>();
        m_upstream->setBehavior(FakeUpstream::Behavior::json(200, R"({"object":"list","data":[{"id":"gpt-4o"}]})"));
        m_db = DbConnection::open(m_env->database(), QStringLiteral("gui-test")).take();
    }

    void cleanup()
    {
        m_db.reset();
        m_env.reset();
        m_upstream.reset();
    }

    // The texts of every kind of context (a Q_OBJECT class in the project's
    // namespace, the command line's, the service's) are found in the
    // Chinese catalogue at run time, not only by lupdate.
    void chineseReachesEveryContext()
    {
        QTranslator zh;
        QVERIFY(zh.load(QStringLiteral(ROUTE_QM_DIR "/openai-api-route_zh_CN.qm")));
        QVERIFY(QCoreApplication::installTranslator(&zh));
        ManagerWindow window(m_env->engine(), m_db, new RequestLogModel(100, this));
        QCOMPARE(window.tabs()->tabText(0), QStringLiteral("上游(&U)"));
        QVERIFY(CommandLine::parse({QStringLiteral("x")}).helpText.contains(QStringLiteral("不显示窗口和托盘图标")));
        ConfigService service(m_db, nullptr, nullptr);
        UpstreamPatch empty;
        empty.endpoint = QStringLiteral("https://a/v1");
        const ChangeResult refused = service.createUpstream(empty);
        QCOMPARE(refused.error->translated(), QStringLiteral("API 密钥(SK)不能为空"));
        QCOMPARE(refused.error->english(), QStringLiteral("SK must not be empty")); // programs keep English
        QCoreApplication::removeTranslator(&zh);
    }

    void allowedHostsAreSavedFromTheSettingsPage()
    {
        ManagerWindow window(m_env->engine(), m_db, new RequestLogModel(100, this));
        QLineEdit *hosts = window.settings()->allowedHostsEdit();
        hosts->setText(QStringLiteral(" Proxy.LAN, my-laptop.local ,"));
        Q_EMIT hosts->editingFinished();
        QCOMPARE(m_env->engine()->snapshots()->current()->settings.allowedHosts,
            (QStringList{QStringLiteral("proxy.lan"), QStringLiteral("my-laptop.local")}));
    }

    void upstreamModelIsAGoodModel()
    {
        m_env->addUpstream(m_upstream->baseUrl(), QStringLiteral("sk-model-test-123456"));
        m_env->addUpstream(QStringLiteral("https://api.example.com/v1"), QStringLiteral("sk-second-key-654321"));
        ConfigService service(m_db, nullptr, nullptr);
        UpstreamTableModel model(nullptr, m_db->db(), &service);
        QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
        QCOMPARE(model.rowCount(), 2);
        const int sk = model.column("sk");
        QCOMPARE(model.data(model.index(0, sk)).toString(),
            QStringLiteral("sk-mo") + QChar(0x2026) + QStringLiteral("3456"));
        model.setRevealKeys(true);
        QCOMPARE(model.data(model.index(0, sk)).toString(), QStringLiteral("sk-model-test-123456"));
        QCOMPARE(model.data(model.index(0, model.column("enabled")), Qt::CheckStateRole).toInt(), int(Qt::Checked));
        QCOMPARE(model.headerData(model.healthColumn(), Qt::Horizontal).toString(), QStringLiteral("Health"));
        QCOMPARE(model.data(model.index(0, model.healthColumn())).toString(), QStringLiteral("healthy"));
        model.select();
    }

    void requestLogIsAGoodModel()
    {
        RequestLogModel log(3);
        QAbstractItemModelTester tester(&log, QAbstractItemModelTester::FailureReportingMode::QtTest);
        QList<RequestRecord> batch;
        for (int i = 0; i < 5; ++i) {
            RequestRecord r;
            r.createdAt = QDateTime::currentDateTimeUtc();
            r.path = QStringLiteral("/v1/x%1").arg(i);
            r.status = 200;
            batch << r;
        }
        log.append(batch.mid(0, 2));
        log.append(batch.mid(2));
        QCOMPARE(log.rowCount(), 3); // capped
        QCOMPARE(log.data(log.index(0, RequestLogModel::Path)).toString(), QStringLiteral("/v1/x4")); // newest first
        QCOMPARE(log.requestsLastMinute(), 3);
        // The kinds of tokens of an agent's turn, on hovering the total.
        RequestRecord turn;
        turn.createdAt = QDateTime::currentDateTimeUtc();
        turn.promptTokens = 38;
        turn.cachedTokens = 10;
        turn.cacheWriteTokens = 3;
        turn.completionTokens = 7;
        turn.reasoningTokens = 2;
        turn.totalTokens = 45;
        log.append({turn});
        QCOMPARE(log.data(log.index(0, RequestLogModel::Tokens)).toInt(), 45);
        QCOMPARE(log.data(log.index(0, RequestLogModel::Tokens), Qt::ToolTipRole).toString(),
            QStringLiteral("input 38 (cached 10, written to the cache 3) · output 7 (reasoning 2)"));
    }

    void addThroughTheDialogReachesTheProxy()
    {
        ManagerWindow window(m_env->engine(), m_db, new RequestLogModel(100, this));
        AddUpstreamDialog dialog(window.service());
        dialog.setValues(QStringLiteral("work"), m_upstream->baseUrl(), QStringLiteral("sk-dialog-key-000001"), true);
        QSignalSpy accepted(&dialog, &QDialog::accepted);
        dialog.accept(); // tests the key first
        QVERIFY(accepted.wait(5000));
        QCOMPARE(m_upstream->requests().first().target, QByteArray("/v1/models"));
        QCOMPARE(
            m_upstream->requests().first().headers.value("authorization"), QByteArray("Bearer sk-dialog-key-000001"));
        const ChangeResult out = window.service()->createUpstream(dialog.upstream());
        QVERIFY(out.ok());
        window.upstreams()->refresh();
        QCOMPARE(window.upstreams()->model()->rowCount(), 1);
        // In the proxy's snapshot without a reload of anyone's own.
        QCOMPARE(m_env->engine()->snapshots()->current()->upstreams.size(), 1);
    }

    void invalidEndpointDisablesSave()
    {
        ConfigService service(m_db, nullptr, nullptr);
        AddUpstreamDialog dialog(&service);
        dialog.setValues(QString(), QStringLiteral("api.openai.com"), QStringLiteral("sk-x"), false);
        QSignalSpy accepted(&dialog, &QDialog::accepted);
        dialog.accept();
        QCOMPARE(accepted.count(), 0);
        QVERIFY(dialog.findChild<QLabel *>(QStringLiteral("message"))->text().contains(QStringLiteral("http")));
    }

    void editInPlaceValidatesAndAppliesAtOnce()
    {
        FakeUpstream other;
        other.setBehavior(FakeUpstream::Behavior::json(200, R"({"from":"other"})"));
        const qint64 id = m_env->addUpstream(m_upstream->baseUrl(), QStringLiteral("sk-edit-key-0000001"));
        ManagerWindow window(m_env->engine(), m_db, new RequestLogModel(100, this));
        UpstreamTableModel *model = window.upstreams()->model();
        QSignalSpy failed(model, &UpstreamTableModel::validationFailed);
        const QModelIndex endpoint = model->index(0, model->column("endpoint"));
        QVERIFY(!model->setData(endpoint, QStringLiteral("not a url")));
        QCOMPARE(failed.count(), 1);
        QCOMPARE(UpstreamRepository(m_db->db()).get(id)->endpoint, m_upstream->baseUrl());

        const bool saved = model->setData(endpoint, other.baseUrl());
        QVERIFY2(saved, qPrintable(failed.isEmpty() ? QString() : failed.last().first().toString()));
        QCOMPARE(UpstreamRepository(m_db->db()).get(id)->endpoint, other.baseUrl());
        // The very next request goes to the new endpoint.
        RawRequest r;
        r.method = "POST";
        r.target = "/v1/chat/completions";
        r.headers.append("Authorization", TestEngine::bearer());
        r.body = "{}";
        QCOMPARE(rawHttp(m_env->port(), r).body, QByteArray(R"({"from":"other"})"));

        // Disabling it through the check box takes it out of service.
        QVERIFY(model->setData(model->index(0, model->column("enabled")), Qt::Unchecked, Qt::CheckStateRole));
        QCOMPARE(rawHttp(m_env->port(), r).status, 503);
        QCOMPARE(m_env->engine()->snapshots()->current()->upstreams.first().enabled, false);
    }

    void outsideChangesAppearInTheTable()
    {
        ManagerWindow window(m_env->engine(), m_db, new RequestLogModel(100, this));
        QCOMPARE(window.upstreams()->model()->rowCount(), 0);
        m_env->addUpstream(m_upstream->baseUrl(), QStringLiteral("sk-outside-000000"));
        QTRY_COMPARE_WITH_TIMEOUT(window.upstreams()->model()->rowCount(), 1, 3000);
    }

    void regeneratingTheTokenRefusesTheOldOne()
    {
        m_env->addUpstream(m_upstream->baseUrl(), QStringLiteral("sk-token-test-00000"));
        ManagerWindow window(m_env->engine(), m_db, new RequestLogModel(100, this));
        RawRequest r;
        r.target = "/v1/models";
        r.headers.append("Authorization", TestEngine::bearer());
        QCOMPARE(rawHttp(m_env->port(), r).status, 200);
        window.settings()->regenerateToken(false);
        const QString fresh = window.settings()->tokenEdit()->text();
        QVERIFY(fresh.startsWith(QStringLiteral("sk-route-")));
        QCOMPARE(rawHttp(m_env->port(), r).status, 403);
        RawRequest withNew = r;
        withNew.headers = HttpHeaders();
        withNew.headers.append("Authorization", "Bearer " + fresh.toUtf8());
        QCOMPARE(rawHttp(m_env->port(), withNew).status, 200);
    }

    void listenAddressErrorsAreShownInline()
    {
        QTcpServer busy;
        QVERIFY(busy.listen(QHostAddress::LocalHost, 0));
        ManagerWindow window(m_env->engine(), m_db, new RequestLogModel(100, this));
        SettingsPage *settings = window.settings();
        settings->addressEdit()->setText(QStringLiteral("127.0.0.1:%1").arg(busy.serverPort()));
        settings->applyAddress();
        QVERIFY(settings->addressMessage()->text().contains(QStringLiteral("in use")));
        const quint16 before = m_env->port();
        settings->addressEdit()->setText(QStringLiteral("127.0.0.1:0"));
        settings->applyAddress();
        QVERIFY(settings->addressMessage()->text().startsWith(QStringLiteral("Listening on")));
        QVERIFY(m_env->port() != before);
        RawRequest r;
        QCOMPARE(rawHttp(m_env->port(), r).status, 200);
    }

    void pauseAnswers503()
    {
        m_env->addUpstream(m_upstream->baseUrl(), QStringLiteral("sk-pause-00000000"));
        RequestLogModel log;
        TrayController tray(m_env->engine(), &log);
        QAction *pause = nullptr;
        for (QAction *a : tray.menu()->actions())
            if (a->isCheckable() && a->text().contains(QStringLiteral("Pause")))
                pause = a;
        QVERIFY(pause);
        pause->setChecked(true);
        QCOMPARE(tray.state(), TrayController::State::Paused);
        RawRequest r;
        r.target = "/v1/models";
        r.headers.append("Authorization", TestEngine::bearer());
        const RawResponse paused = rawHttp(m_env->port(), r);
        QCOMPARE(paused.status, 503);
        QVERIFY(paused.body.contains("paused"));
        pause->setChecked(false);
        QCOMPARE(rawHttp(m_env->port(), r).status, 200);
        QVERIFY(tray.environmentSnippet().contains(QStringLiteral("OPENAI_API_KEY=test-token")));
    }

    void withoutATrayTheWindowOpensAndClosingQuits()
    {
        QVERIFY(!QSystemTrayIcon::isSystemTrayAvailable()); // offscreen
        AppController app(m_env->engine(), m_env->database());
        QString error;
        QVERIFY(app.start(&error));
        QVERIFY(!app.hasTray());
        QVERIFY(app.window()->isVisible());
        QTRY_VERIFY(app.window()->findChild<QMessageBox *>(QStringLiteral("noTrayNotice")));
        QSignalSpy quit(&app, &AppController::quitRequested);
        app.window()->close();
        QCOMPARE(quit.count(), 1);
    }
};

QTEST_MAIN(TestGui)
#include "tst_gui.moc"
