// The official SDKs through the proxy: Anthropic's streams a message with
// x-api-key auth; OpenAI's asks for a chat completion. Prints what they got.
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';

const base = process.env.ROUTE_BASE; // http://127.0.0.1:PORT
const token = process.env.ROUTE_TOKEN;

const anthropic = new Anthropic({ baseURL: base, apiKey: token });
const stream = anthropic.messages.stream({
  model: 'claude-fake', max_tokens: 64, messages: [{ role: 'user', content: 'Say hello.' }],
});
let text = '';
stream.on('text', (t) => { text += t; });
const final = await stream.finalMessage();
console.log(`anthropic-stream: ${text} (stop ${final.stop_reason}, in ${final.usage.input_tokens}, out ${final.usage.output_tokens})`);

const openai = new OpenAI({ baseURL: `${base}/v1`, apiKey: token });
const chat = await openai.chat.completions.create({ model: 'gpt-fake', messages: [{ role: 'user', content: 'Say hello.' }] });
console.log(`openai-chat: ${chat.choices[0].message.content}`);

if (process.env.ROUTE_RESPONSES) {
  // The Responses API, as the OpenAI SDK builds its objects from it.
  const plain = await openai.responses.create({ model: 'gpt-fake', input: 'Say hello.' });
  console.log(`openai-responses: ${plain.output_text} (${plain.status}, in ${plain.usage.input_tokens})`);
  const events = await openai.responses.create({ model: 'gpt-fake', input: 'Say hello.', stream: true });
  let streamed = '';
  let completed = null;
  for await (const e of events) {
    if (e.type === 'response.output_text.delta') streamed += e.delta;
    if (e.type === 'response.completed') completed = e.response;
  }
  console.log(`openai-responses-stream: ${streamed} (${completed.status}, out ${completed.usage.output_tokens})`);
}
