#include "balancer/affinity.h"
#include "balancer/balancer.h"
#include "balancer/health.h"

#include <QTest>

using namespace route; // test code reads like code inside the project

class TestBalancer : public QObject
{
    Q_OBJECT

    static Snapshot snapshotOf(const QList<int> &weights, const QString &policy)
    {
        Snapshot s;
        s.settings.policy = Vocabulary::parsePolicy(policy).value();
        for (int i = 0; i < weights.size(); ++i) {
            Upstream u;
            u.id = i + 1;
            u.weight = weights[i];
            s.upstreams << u;
        }
        return s;
    }

    static QList<qint64> ids(const QList<const Upstream *> &list)
    {
        QList<qint64> out;
        for (const Upstream *u : list)
            out << u->id;
        return out;
    }

private Q_SLOTS:
    void orderKeepsTheTableOrder()
    {
        Balancer b;
        QCOMPARE(ids(b.candidates(snapshotOf({1, 1, 1}, QStringLiteral("order")), {})), (QList<qint64>{1, 2, 3}));
    }

    void roundRobinRotates()
    {
        Balancer b;
        const Snapshot s = snapshotOf({1, 1, 1}, QStringLiteral("round_robin"));
        QCOMPARE(ids(b.candidates(s, {})), (QList<qint64>{1, 2, 3}));
        QCOMPARE(ids(b.candidates(s, {})), (QList<qint64>{2, 3, 1}));
        QCOMPARE(ids(b.candidates(s, {})), (QList<qint64>{3, 1, 2}));
        QCOMPARE(ids(b.candidates(s, {})), (QList<qint64>{1, 2, 3}));
    }

    void weightsThreeToOne()
    {
        Balancer b;
        b.seed(7);
        const Snapshot s = snapshotOf({3, 1}, QStringLiteral("weighted"));
        int first = 0;
        const int n = 4000;
        for (int i = 0; i < n; ++i) {
            const QList<qint64> order = ids(b.candidates(s, {}));
            QCOMPARE(order.size(), 2); // the other one stays as a fallback
            first += order.first() == 1 ? 1 : 0;
        }
        const double share = double(first) / n;
        QVERIFY2(qAbs(share - 0.75) < 0.03, qPrintable(QString::number(share)));
    }

    void zeroWeightIsOnlyAFallback()
    {
        Balancer b;
        const Snapshot s = snapshotOf({0, 1}, QStringLiteral("weighted"));
        for (int i = 0; i < 50; ++i)
            QCOMPARE(ids(b.candidates(s, {})), (QList<qint64>{2, 1}));
    }

    void randomReachesEveryUpstream()
    {
        Balancer b;
        const Snapshot s = snapshotOf({1, 1, 1, 1}, QStringLiteral("random"));
        QHash<qint64, int> firsts;
        for (int i = 0; i < 400; ++i)
            ++firsts[b.candidates(s, {}).first()->id];
        QCOMPARE(firsts.size(), 4);
        for (int count : firsts)
            QVERIFY(count > 50);
    }

    void leastInflightAndLowestLatency()
    {
        HealthTracker health;
        Balancer b(&health);
        Snapshot s = snapshotOf({1, 1, 1}, QStringLiteral("least_inflight"));
        health.attemptStarted(1, 0);
        health.attemptStarted(1, 0);
        health.attemptStarted(2, 0);
        QCOMPARE(ids(b.candidates(s, {})), (QList<qint64>{3, 2, 1}));

        s.settings.policy = Policy::LowestLatency;
        health.succeeded(1, 50);
        health.succeeded(2, 400);
        health.succeeded(3, 120);
        QCOMPARE(ids(b.candidates(s, {})), (QList<qint64>{1, 3, 2}));
    }

    void failuresTripACooldownThatGrows()
    {
        HealthTracker h;
        const qint64 t0 = 1000000;
        h.failed(1, FailureClass::ServerError, QStringLiteral("HTTP 500"), t0);
        h.failed(1, FailureClass::Transport, QStringLiteral("reset"), t0);
        QVERIFY(h.isAvailable(1, t0)); // two are not enough
        h.failed(1, FailureClass::ServerError, QStringLiteral("HTTP 503"), t0);
        QCOMPARE(h.health(1).state, HealthState::CoolingDown);
        QVERIFY(!h.isAvailable(1, t0 + 29000));
        QVERIFY(h.isAvailable(1, t0 + 30000));
        // One probe after the cooldown; it fails; the next cooldown is twice as long.
        h.attemptStarted(1, t0 + 30000);
        QCOMPARE(h.health(1).state, HealthState::HalfOpen);
        QVERIFY(!h.isAvailable(1, t0 + 30000)); // only one probe at a time
        h.attemptEnded(1);
        h.failed(1, FailureClass::ServerError, QStringLiteral("HTTP 500"), t0 + 30000);
        QCOMPARE(h.health(1).state, HealthState::CoolingDown);
        QVERIFY(!h.isAvailable(1, t0 + 30000 + 59000));
        QVERIFY(h.isAvailable(1, t0 + 30000 + 60000));
        h.attemptStarted(1, t0 + 90000);
        h.attemptEnded(1);
        h.succeeded(1, 10);
        QCOMPARE(h.health(1).state, HealthState::Healthy);
        QVERIFY(h.isAvailable(1, t0 + 90000));
        QCOMPARE(h.health(1).tripCount, 0);
    }

    void cooldownIsCappedAtTenMinutes()
    {
        HealthTracker h;
        qint64 t = 0;
        for (int trip = 0; trip < 12; ++trip) {
            for (int i = 0; i < 3; ++i)
                h.failed(1, FailureClass::Transport, QString(), t);
            t = h.health(1).untilMs;
        }
        QVERIFY(h.health(1).untilMs - t <= 10 * 60 * 1000);
        qint64 previous = 0;
        HealthTracker g;
        for (int i = 0; i < 3; ++i)
            g.failed(2, FailureClass::Transport, QString(), 0);
        previous = g.health(2).untilMs;
        QCOMPARE(previous, 30000);
    }

    void rateLimitHonoursRetryAfter()
    {
        HealthTracker h;
        h.failed(1, FailureClass::RateLimited, QStringLiteral("HTTP 429"), 0, 2000);
        QCOMPARE(h.health(1).state, HealthState::RateLimited);
        QVERIFY(!h.isAvailable(1, 1999));
        QVERIFY(h.isAvailable(1, 2000));
    }

    void authFailureIsALongCooldown()
    {
        HealthTracker h;
        h.failed(1, FailureClass::AuthRejected, QStringLiteral("HTTP 401"), 0);
        QCOMPARE(h.health(1).state, HealthState::AuthFailed);
        QVERIFY(!h.isAvailable(1, 5 * 60 * 1000));
        QVERIFY(h.isAvailable(1, 10 * 60 * 1000));
    }

    void globalThrottleKeepsCooldownsShort()
    {
        HealthTracker h;
        h.failed(1, FailureClass::RateLimited, QStringLiteral("HTTP 429"), 0, 3600 * 1000);
        h.failed(2, FailureClass::RateLimited, QStringLiteral("HTTP 429"), 0, 3600 * 1000);
        h.globalThrottle({1, 2}, 0, 3600 * 1000);
        QVERIFY(h.isAvailable(1, 60 * 1000));
        QVERIFY(h.isAvailable(2, 60 * 1000));
    }

    void restingUpstreamsAreTheLastResort()
    {
        HealthTracker health;
        Balancer b(&health);
        const Snapshot s = snapshotOf({1, 1, 1}, QStringLiteral("order"));
        const qint64 now = health.nowMs();
        health.failed(1, FailureClass::AuthRejected, QStringLiteral("HTTP 401"), now);
        health.failed(2, FailureClass::RateLimited, QStringLiteral("HTTP 429"), now, 5000);
        QCOMPARE(ids(b.candidates(s, {})), (QList<qint64>{3, 2, 1}));
    }

    void aRestEndsWhenTheClockMovesOn()
    {
        ManualClock clock;
        HealthTuning tuning;
        tuning.failuresToTrip = 1;
        tuning.baseCooldownMs = 30 * 1000;
        HealthTracker health(tuning, &clock);
        Balancer b(&health);
        const Snapshot s = snapshotOf({1, 1}, QStringLiteral("order"));
        health.failed(1, FailureClass::ServerError, QStringLiteral("HTTP 503"), health.nowMs());
        QCOMPARE(ids(b.candidates(s, {})), (QList<qint64>{2, 1}));
        clock.advance(30 * 1000 - 1);
        QCOMPARE(ids(b.candidates(s, {})), (QList<qint64>{2, 1}));
        clock.advance(1);
        // Half open: first again, for one probe at a time.
        QCOMPARE(ids(b.candidates(s, {})), (QList<qint64>{1, 2}));
        QCOMPARE(health.health(1).state, HealthState::CoolingDown);
        health.attemptStarted(1, health.nowMs());
        QCOMPARE(ids(b.candidates(s, {})), (QList<qint64>{2, 1}));
    }

    void sessionsLiveTheirTtlAndTheTableIsBounded()
    {
        ManualClock clock;
        AffinityTable table(&clock, 10);
        table.setTtlMs(1000);
        table.bind("s1", 7);
        QCOMPARE(table.lookup("s1"), qint64(7));
        clock.advance(900);
        QCOMPARE(table.lookup("s1"), qint64(7)); // a use moves its end
        clock.advance(900);
        QCOMPARE(table.lookup("s1"), qint64(7));
        clock.advance(1001);
        QCOMPARE(table.lookup("s1"), qint64(0));
        for (int i = 0; i < 50; ++i) {
            table.bind("s" + QByteArray::number(i), 1);
            clock.advance(1);
        }
        QVERIFY(table.size() <= table.capacity());
        QCOMPARE(table.lookup("s49"), qint64(1)); // the newest stay
        QCOMPARE(table.lookup("s0"), qint64(0)); // the oldest went
        table.forgetUpstream(1);
        QCOMPARE(table.size(), 0);
    }

    void aBoundSessionGoesFirstUnderEveryPolicy()
    {
        HealthTracker health;
        AffinityTable table;
        Balancer b(&health, &table);
        RequestTraits session;
        session.affinityKey = "conversation";
        table.bind("conversation", 3);
        for (const QString &policy : Vocabulary::policyNames()) {
            const Snapshot s = snapshotOf({1, 1, 1}, policy);
            qint64 bound = 0;
            QCOMPARE(b.candidates(s, session, &bound).first()->id, qint64(3));
            QCOMPARE(bound, qint64(3));
        }
        // A resting bound upstream is not first: the next one takes over.
        health.failed(3, FailureClass::AuthRejected, QStringLiteral("HTTP 401"), health.nowMs());
        qint64 bound = -1;
        QCOMPARE(b.candidates(snapshotOf({1, 1, 1}, QStringLiteral("order")), session, &bound).first()->id, qint64(1));
        QCOMPARE(bound, qint64(0));
        // Another format's upstreams are never candidates.
        RequestTraits messages;
        messages.format = ApiFormat::Anthropic;
        QVERIFY(b.candidates(snapshotOf({1, 1}, QStringLiteral("order")), messages).isEmpty());
    }

    void stateChangesAreSignalled()
    {
        HealthTracker h;
        QList<int> states;
        connect(
            &h, &HealthTracker::stateChanged, this, [&](qint64, HealthState s, const QString &) { states << int(s); });
        for (int i = 0; i < 3; ++i)
            h.failed(1, FailureClass::ServerError, QString(), 0);
        h.succeeded(1, 5);
        QCOMPARE(states, (QList<int>{int(HealthState::CoolingDown), int(HealthState::Healthy)}));
    }
};

QTEST_GUILESS_MAIN(TestBalancer)
#include "tst_balancer.moc"
