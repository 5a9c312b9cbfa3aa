// The desktop front end, offscreen: models under QAbstractItemModelTester,
// edits through the widgets reaching the database and the proxy, validation,
// token regeneration and the no-tray fallback.
#include "addupstreamdialog.h"
#include "appcontroller.h"
#include "appspage.h"
#include "connectdialog.h"
#include "domain/snapshot.h"
#include "engine/engine.h"
#include "fakeupstream.h"
#include "managerwindow.h"
#include "models/requestlogmodel.h"
#include "models/upstreamtablemodel.h"
#include "modelsdialog.h"
#include "rawhttp.h"
#include "runtime/commandline.h"
#include "service/configservice.h"
#include "settingspage.h"
#include "store/tokenrepository.h"
#include "store/upstreamrepository.h"
#include "testengine.h"
#include "traycontroller.h"
#include "upstreamspage.h"
#include "usagechart.h"
#include "usagepage.h"

#include <QAbstractItemModelTester>
#include <QApplication>
#include <QComboBox>
#include <QLabel>
#include <QLineEdit>
#include <QListWidget>
#include <QMenu>
#include <QMessageBox>
#include <QPushButton>
#include <QSignalSpy>
#include <QSpinBox>
#include <QStandardPaths>
#include <QSystemTrayIcon>
#include <QTabWidget>
#include <QTableView>
#include <QTableWidget>
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
    void initTestCase()
    {
        QStandardPaths::setTestModeEnabled(true);
        // No Secret Service for this program, whatever desktop it runs on
        // (tst_keychain has a real one of its own).
        qputenv("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent/route-test-bus");
    }

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

    // Beyond loopback the status bar says what that means (SPEC §13); on
    // loopback it says nothing. The open engine is never started.
    void theStatusBarWarnsWhenReachableFromTheNetwork()
    {
        {
            ManagerWindow window(m_env->engine(), m_db, new RequestLogModel(100, this));
            QVERIFY(window.exposureLabel()->text().isEmpty());
        }
        EngineOptions o = m_env->engine()->options();
        o.address = QHostAddress::Any;
        o.noAuth = true;
        Engine open(o);
        ManagerWindow window(&open, m_db, new RequestLogModel(100, this));
        QVERIFY2(window.exposureLabel()->text().contains(QStringLiteral("-noauth")),
            qPrintable(window.exposureLabel()->text()));
        QVERIFY(!window.exposureLabel()->isHidden());
    }

    // Without a keychain service the option says why and cannot be chosen.
    void theKeychainOptionExplainsWhyItIsUnavailable()
    {
        ManagerWindow window(m_env->engine(), m_db, new RequestLogModel(100, this));
        SettingsPage *page = window.settings();
        QTRY_VERIFY_WITH_TIMEOUT(
            page->keysStatus()->text().contains(QStringLiteral("The system keychain is not available: ")), 30000);
        QVERIFY(page->keysStatus()->text().startsWith(QStringLiteral("Keys are kept in the database")));
        QVERIFY(!page->keysToKeychainButton()->isEnabled());
        QVERIFY(!page->keysToDatabaseButton()->isEnabled());
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

    // SPEC §10 in the window: the Models column, Fetch models, and the
    // dialog that edits aliases and the allowed models.
    void modelsAreFetchedShownAndAliased()
    {
        m_upstream->setBehavior(FakeUpstream::Behavior::json(
            200, "{\"object\":\"list\",\"data\":[{\"id\":\"gpt-4o\"},{\"id\":\"gpt-4o-mini\"}]}"));
        const qint64 id = m_env->addUpstream(m_upstream->baseUrl(), QStringLiteral("sk-models-test-0001"));
        ManagerWindow window(m_env->engine(), m_db, new RequestLogModel(100, this));
        UpstreamTableModel *model = window.upstreams()->model();
        QAbstractItemModelTester tester(model, QAbstractItemModelTester::FailureReportingMode::QtTest);
        const int models = model->column("models");
        QVERIFY(models >= 0);
        QCOMPARE(model->data(model->index(0, models)).toString(), QString()); // not fetched yet
        window.upstreams()->view()->selectRow(0);
        window.upstreams()->fetchModels();
        QTRY_COMPARE_WITH_TIMEOUT(model->data(model->index(0, models)).toString(), QStringLiteral("2"), 5000);
        const QString tip = model->data(model->index(0, models), Qt::ToolTipRole).toString();
        QVERIFY2(
            tip.contains(QStringLiteral("gpt-4o-mini")) && tip.contains(QStringLiteral("fetched")), qPrintable(tip));

        ModelsDialog dialog(window.service(), m_db, id);
        QCOMPARE(dialog.models()->count(), 2);
        dialog.models()->item(1)->setSelected(true);
        QMetaObject::invokeMethod(
            dialog.models(), "itemDoubleClicked", Q_ARG(QListWidgetItem *, dialog.models()->item(1)));
        QCOMPARE(dialog.allow()->text(), QStringLiteral("gpt-4o-mini"));
        dialog.addAlias(QStringLiteral("fast"), QStringLiteral("gpt-4o-mini"));
        dialog.accept();
        QCOMPARE(dialog.result(), int(QDialog::Accepted));
        const Upstream stored = *UpstreamRepository(m_db->db()).get(id);
        QCOMPARE(
            stored.modelMap.resolve(QStringLiteral("fast")), std::optional<QString>(QStringLiteral("gpt-4o-mini")));
        QCOMPARE(stored.allow, QStringList{QStringLiteral("gpt-4o-mini")});
        // The proxy uses the alias at once.
        RawRequest r;
        r.method = "POST";
        r.target = "/v1/chat/completions";
        r.headers.append("Authorization", TestEngine::bearer());
        r.body = "{\"model\":\"fast\",\"messages\":[]}";
        QCOMPARE(rawHttp(m_env->port(), r).status, 200);
        QVERIFY(m_upstream->requests().last().body.contains("\"model\":\"gpt-4o-mini\""));
        window.upstreams()->refresh();
        QCOMPARE(
            model->data(model->index(0, model->column("model_map"))).toString(), QStringLiteral("fast → gpt-4o-mini"));

        // A bad alias is refused in the dialog, with nothing saved.
        ModelsDialog bad(window.service(), m_db, id);
        bad.addAlias(QStringLiteral("a*b"), QStringLiteral("c"));
        bad.accept();
        QCOMPARE(bad.result(), int(QDialog::Rejected));
        QVERIFY(UpstreamRepository(m_db->db()).get(id)->modelMap.resolve(QStringLiteral("a*b")) == std::nullopt);
    }

    void aProxyIsEnteredMaskedAndChecked()
    {
        const qint64 id = m_env->addUpstream(m_upstream->baseUrl(), QStringLiteral("sk-proxy-test-0001"),
            [](Upstream &u) { u.proxy = QStringLiteral("socks5://me:s3cret@127.0.0.1:1080"); });
        ConfigService service(m_db, m_env->engine()->snapshots(), nullptr);
        UpstreamTableModel model(nullptr, m_db->db(), &service);
        const QModelIndex cell = model.index(0, model.column("proxy"));
        QCOMPARE(model.data(cell).toString(), QStringLiteral("socks5://me:***@127.0.0.1:1080"));
        QVERIFY(model.flags(cell) & Qt::ItemIsEditable);
        QSignalSpy refused(&model, &UpstreamTableModel::validationFailed);
        QVERIFY(!model.setData(cell, QStringLiteral("ftp://x"), Qt::EditRole));
        QCOMPARE(refused.count(), 1);
        QVERIFY(model.setData(cell, QStringLiteral("direct"), Qt::EditRole));
        QCOMPARE(UpstreamRepository(m_db->db()).get(id)->proxy, QStringLiteral("direct"));

        AddUpstreamDialog dialog(&service);
        dialog.setValues(QStringLiteral("p"), m_upstream->baseUrl(), QStringLiteral("sk-x"), false);
        auto *proxy = dialog.findChild<QLineEdit *>(QStringLiteral("proxy"));
        QVERIFY(proxy);
        proxy->setText(QStringLiteral("gopher://x"));
        QVERIFY(dialog.findChild<QLabel *>(QStringLiteral("message"))->text().contains(QStringLiteral("proxy")));
        proxy->setText(QStringLiteral("http://127.0.0.1:3128"));
        QCOMPARE(dialog.upstream().proxy, QStringLiteral("http://127.0.0.1:3128"));
    }

    // SPEC §14: an app token made on the Apps page works at once, the
    // Usage page shows what it spent, the tray counts today's spend and
    // announces a limit; the Connect dialog fills in the token.
    void appsAndUsagePagesFollowTheSpend()
    {
        m_upstream->setBehavior(FakeUpstream::Behavior::json(200,
            "{\"choices\":[],\"usage\":{\"prompt_tokens\":1000,\"completion_tokens\":500,\"total_tokens\":1500}}"));
        m_env->addUpstream(m_upstream->baseUrl(), QStringLiteral("sk-apps-test-0001"));
        ManagerWindow window(m_env->engine(), m_db, new RequestLogModel(100, this));
        RequestLogModel log(100);
        TrayController tray(m_env->engine(), &log);
        AppsPage *apps = window.apps();
        AppTokenPatch limits;
        limits.rpm = 2;
        const QString token = apps->addToken(QStringLiteral("notebook"), limits);
        QVERIFY(token.startsWith(QStringLiteral("sk-route-")));
        QCOMPARE(apps->tokens()->rowCount(), 1);
        QCOMPARE(apps->tokens()->item(0, 1)->text(), QStringLiteral("notebook"));
        QVERIFY(apps->tokens()->item(0, 4)->text().contains(QStringLiteral("2/min")));
        RawRequest r;
        r.method = "POST";
        r.target = "/v1/chat/completions";
        r.headers.append("Authorization", "Bearer " + token.toUtf8());
        r.headers.append("User-Agent", "NotebookApp/2.0");
        r.body = "{\"model\":\"gpt-4o\",\"messages\":[]}";
        QCOMPARE(rawHttp(m_env->port(), r).status, 200);
        QCOMPARE(rawHttp(m_env->port(), r).status, 200);
        QCOMPARE(rawHttp(m_env->port(), r).status, 429); // the third in a minute
        QSignalSpy written(m_env->engine(), &Engine::recordsWritten);
        QVERIFY(written.wait(5000));
        QTRY_VERIFY_WITH_TIMEOUT(tray.spentToday() > 0.014, 5000); // 2 × $0.0075 by the shipped gpt-4o price
        QVERIFY(tray.toolTip().contains(QStringLiteral("$%1 today").arg(tray.spentToday(), 0, 'f', 2)));

        apps->refresh();
        QCOMPARE(apps->tokens()->item(0, 6)->text(), QStringLiteral("$0.0150"));
        QVERIFY(apps->apps()->rowCount() >= 1);
        UsagePage *usage = window.usage();
        usage->breakdown()->setCurrentIndex(1); // by app token
        usage->refresh();
        QCOMPARE(usage->table()->item(0, 0)->text(), QStringLiteral("notebook"));
        QCOMPARE(usage->table()->item(0, 1)->text(), QStringLiteral("3"));
        QVERIFY(qAbs(usage->costChart()->total() - 0.015) < 1e-9);
        QCOMPARE(usage->tokenChart()->total(), 3000.0);

        ConnectDialog connect(m_env->engine()->baseUrl(), token, true);
        QVERIFY(connect.snippet(0).contains(QStringLiteral("ANTHROPIC_AUTH_TOKEN=") + token));
        QVERIFY(connect.snippet(1).contains(QStringLiteral("base_url = \"") + m_env->engine()->baseUrl()));
        QVERIFY(connect.snippet(2).contains(QStringLiteral("OPENAI_BASE_URL=") + m_env->engine()->baseUrl()));
        QCOMPARE(connect.findChild<QLineEdit *>(QStringLiteral("token"))->text(), token);

        AppTokenDialog dialog(*TokenRepository(m_db->db()).get(1));
        QCOMPARE(dialog.nameEdit()->text(), QStringLiteral("notebook"));
        QCOMPARE(dialog.rpmEdit()->value(), 2);
        dialog.rpmEdit()->setValue(0);
        QCOMPARE(dialog.patch().rpm, std::optional<int>(0));
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
