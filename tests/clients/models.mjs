// The official OpenAI SDK through the proxy, as a chat app uses it: the
// model picker (models.list()) shows every upstream's models and the
// aliases; each model's chat reaches the upstream that serves it, under
// that upstream's name for it. The fake upstreams answer "NAME:MODEL".
import OpenAI from 'openai';

const openai = new OpenAI({ baseURL: `${process.env.ROUTE_BASE}/v1`, apiKey: process.env.ROUTE_TOKEN });
const ids = [];
for await (const model of openai.models.list()) ids.push(model.id);
const expected = ['chat', 'deepseek-chat', 'deepseek-reasoner', 'gpt-4o', 'llama3', 'o3', 'qwen3'];
if (JSON.stringify(ids) !== JSON.stringify(expected)) {
  throw new Error(`models.list(): ${JSON.stringify(ids)}, expected ${JSON.stringify(expected)}`);
}
console.log(`models.list(): ${ids.join(' ')}`);

const retrieved = await openai.models.retrieve('deepseek-reasoner');
if (retrieved.id !== 'deepseek-reasoner') throw new Error(`models.retrieve(): ${JSON.stringify(retrieved)}`);

const cases = {
  'gpt-4o': 'A:gpt-4o', 'o3': 'A:o3', 'deepseek-chat': 'B:deepseek-chat', 'deepseek-reasoner': 'B:deepseek-reasoner',
  'llama3': 'C:llama3', 'qwen3': 'C:qwen3', 'chat': 'B:deepseek-chat', 'local/qwen3': 'C:qwen3',
};
for (const [model, want] of Object.entries(cases)) {
  for (let turn = 0; turn < 3; turn++) {
    const chat = await openai.chat.completions.create({ model, messages: [{ role: 'user', content: 'hi' }] });
    const got = chat.choices[0].message.content;
    if (got !== want) throw new Error(`${model}: answered by ${got}, expected ${want}`);
  }
  console.log(`${model} -> ${want}`);
}
