#pragma once

#include "fakeupstream.h"

#include <QByteArray>
#include <QJsonObject>
#include <QList>
#include <QStringList>

// The wire formats of the agents' APIs, as a model server writes them, for
// the fake upstream: Anthropic Messages and OpenAI Responses, as JSON and as
// event streams, with usage, tool calls and their terminal events.
namespace FakeModel {

struct Usage
{
    int input = 25;
    int output = 7;
    int cached = 10; // Messages: cache_read_input_tokens; Responses: input_tokens_details.cached_tokens
    int cacheWrite = 3; // Messages only
    int reasoning = 2; // Responses only
};

// Messages: a text answer, or a call of TOOL with INPUT (a JSON object).
QList<QByteArray> messagesText(const QByteArray &text, const Usage &usage = {});
QList<QByteArray> messagesToolUse(const QByteArray &tool, const QJsonObject &input, const Usage &usage = {});
QByteArray messagesJson(const QByteArray &text, const Usage &usage = {});

// Responses: a text answer, or a function call.
QList<QByteArray> responsesText(const QByteArray &text, const QByteArray &responseId, const Usage &usage = {});
QList<QByteArray> responsesFunctionCall(
    const QByteArray &name, const QJsonObject &arguments, const QByteArray &responseId, const Usage &usage = {});
QByteArray responsesJson(const QByteArray &text, const QByteArray &responseId, const Usage &usage = {});

// Chat Completions: a streamed text answer, or a streamed call of NAME (the
// arguments in two pieces, as servers send them), with a usage chunk.
QList<QByteArray> chatText(const QByteArray &text, bool done = true);
QList<QByteArray> chatToolCall(const QByteArray &name, const QJsonObject &arguments);
QByteArray chatJson(const QByteArray &text);

// A model that does one tool round trip: asked to read a file (the first
// absolute path in the user's text), it calls the client's file tool (Read
// for Claude Code, exec_command `cat` for Codex); given the tool's result,
// it answers "The file says: RESULT". Chat Completions do the same with a
// `Read` or `exec_command` function when the request offers one (a request
// converted from Messages or Responses), else a plain answer.
FakeUpstream::Behavior agentTurn(const FakeUpstream::Request &request);
// An upstream with a catalog: MODELS on GET /models, and a chat answer
// "NAME:MODEL" naming itself and the model it was sent.
FakeUpstream::Behavior catalogTurn(
    const FakeUpstream::Request &request, const QStringList &models, const QString &name);

} // namespace FakeModel
