// route-fake-upstream: the test suite's fake OpenAI upstream as a program,
// for the benchmark. Answers chat completions with a small JSON body, or with
// 20 SSE events 50 ms apart when the request asks for "stream": true.
// With --agent, it is the fake model the real coding agents talk to
// (tests/clients): Messages and Responses with one tool round trip, and a
// line on stdout per request naming the key it came with.
// With --models a,b --name A, it lists those models on GET /models and
// answers every chat with "A:<the model it was asked for>" (tests/clients).
#include "fakemodel.h"
#include "fakeupstream.h"

#include <cstdio>

#include <QCoreApplication>
#include <QTextStream>

using namespace route; // test code reads like code inside the project

int main(int argc, char *argv[])
{
    QCoreApplication app(argc, argv);
    FakeUpstream upstream;
    if (app.arguments().contains(QStringLiteral("--agent"))) {
        upstream.setScript([](const FakeUpstream::Request &r) {
            const QByteArray key = r.headers.value("x-api-key").isEmpty() ? r.headers.value("authorization")
                                                                          : r.headers.value("x-api-key");
            std::printf("request %s %s key=%s\n", r.method.constData(), r.target.constData(), key.constData());
            std::fflush(stdout);
            return FakeModel::agentTurn(r);
        });
        QTextStream(stdout) << "listening on 127.0.0.1:" << upstream.port() << Qt::endl;
        return app.exec();
    }
    const int modelsAt = int(app.arguments().indexOf(QStringLiteral("--models")));
    if (modelsAt > 0 && modelsAt + 1 < app.arguments().size()) {
        const QStringList models = app.arguments().at(modelsAt + 1).split(QLatin1Char(','), Qt::SkipEmptyParts);
        const int nameAt = int(app.arguments().indexOf(QStringLiteral("--name")));
        const QString name = nameAt > 0 && nameAt + 1 < app.arguments().size() ? app.arguments().at(nameAt + 1)
                                                                               : QStringLiteral("fake");
        upstream.setScript([models, name](const FakeUpstream::Request &r) {
            std::printf("request %s %s\n", r.method.constData(), r.target.constData());
            std::fflush(stdout);
            return FakeModel::catalogTurn(r, models, name);
        });
        QTextStream(stdout) << "listening on 127.0.0.1:" << upstream.port() << Qt::endl;
        return app.exec();
    }
    upstream.setScript([](const FakeUpstream::Request &r) {
        if (r.body.contains("\"stream\":true")) {
            QList<QByteArray> events;
            for (int i = 0; i < 20; ++i)
                events << "data: {\"choices\":[{\"delta\":{\"content\":\"t" + QByteArray::number(i) + "\"}}]}\n\n";
            events << "data: [DONE]\n\n";
            return FakeUpstream::Behavior::sse(events, 50);
        }
        return FakeUpstream::Behavior::json(200,
            R"({"id":"chatcmpl-b","object":"chat.completion","choices":[{"index":0,"message":{"role":"assistant","content":"Hello there, five words."},"finish_reason":"stop"}],"usage":{"prompt_tokens":12,"completion_tokens":6,"total_tokens":18}})");
    });
    QTextStream(stdout) << "listening on 127.0.0.1:" << upstream.port() << Qt::endl;
    return app.exec();
}
