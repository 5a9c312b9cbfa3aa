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
