#include "auth/authenticator.h"
#include "util/secrets.h"

#include <QTest>

using namespace route; // test code reads like code inside the project

class TestAuth : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void seedMessages()
    {
        QCOMPARE(Authenticator::message(Authenticator::Verdict::NotBearer),
            QStringLiteral("authorization header should start with 'Bearer'"));
        QCOMPARE(
            Authenticator::message(Authenticator::Verdict::WrongToken), QStringLiteral("wrong authorization header"));
    }

    void verdicts()
    {
        const QStringList tokens{QStringLiteral("alpha"), QStringLiteral("beta")};
        using V = Authenticator::Verdict;
        QCOMPARE(Authenticator::check("", tokens), V::NotBearer);
        QCOMPARE(Authenticator::check("Basic alpha", tokens), V::NotBearer);
        QCOMPARE(Authenticator::check("bearer alpha", tokens), V::NotBearer); // the seed checks the exact prefix
        QCOMPARE(Authenticator::check("Bearer alpha", tokens), V::Accepted);
        QCOMPARE(Authenticator::check("Bearer   beta  ", tokens), V::Accepted);
        QCOMPARE(Authenticator::check("Bearerbeta", tokens), V::Accepted); // the seed strips "Bearer" then spaces
        QCOMPARE(Authenticator::check("Bearer gamma", tokens), V::WrongToken);
        QCOMPARE(Authenticator::check("Bearer alph", tokens), V::WrongToken);
        QCOMPARE(Authenticator::check("Bearer ", tokens), V::WrongToken);
        QCOMPARE(Authenticator::check("Bearer ", {}), V::WrongToken);
        QCOMPARE(Authenticator::check("Bearer x", {}), V::WrongToken);
    }

    void tellsWhichTokenMatched()
    {
        int which = -1;
        QCOMPARE(Authenticator::check("Bearer beta", {QStringLiteral("alpha"), QStringLiteral("beta")}, &which),
            Authenticator::Verdict::Accepted);
        QCOMPARE(which, 2);
        QCOMPARE(
            Authenticator::check("Bearer nope", {QStringLiteral("alpha")}, &which), Authenticator::Verdict::WrongToken);
        QCOMPARE(which, 0);
    }

    void constantTimeEquality()
    {
        QVERIFY(Secrets::constantTimeEquals("abc", "abc"));
        QVERIFY(!Secrets::constantTimeEquals("abc", "abd"));
        QVERIFY(!Secrets::constantTimeEquals("abc", "abcd"));
        QVERIFY(Secrets::constantTimeEquals("", ""));
        // The presented bytes are compared cyclically against the stored
        // ones: a repetition of the secret must still differ by its length.
        QVERIFY(!Secrets::constantTimeEquals("abcabc", "abc"));
        QVERIFY(!Secrets::constantTimeEquals("abc", "abcabc"));
        QVERIFY(!Secrets::constantTimeEquals("", "abc"));
        QVERIFY(!Secrets::constantTimeEquals("abc", ""));
        QVERIFY(!Secrets::constantTimeEquals("abd", "abc"));
    }

    void masking()
    {
        QCOMPARE(Secrets::mask(QStringLiteral("sk-abcdefghijklmnwxyz")),
            QStringLiteral("sk-ab") + QChar(0x2026) + QStringLiteral("wxyz"));
        QCOMPARE(Secrets::mask(QStringLiteral("short")), QStringLiteral("*****"));
        QVERIFY(!Secrets::mask(QStringLiteral("sk-abcdefghijklmnwxyz")).contains(QStringLiteral("efgh")));
    }

    void generatedTokensDiffer()
    {
        const QString a = Secrets::generateToken();
        const QString b = Secrets::generateToken();
        QVERIFY(a != b);
        QVERIFY(a.size() >= 40);
        QVERIFY(a.startsWith(QStringLiteral("sk-route-")));
    }
};

QTEST_GUILESS_MAIN(TestAuth)
#include "tst_auth.moc"
