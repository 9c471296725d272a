// Expected ids of TokenizerOracleCasesTest, from Hugging Face tokenizers (the Rust library behind
// transformers' fast tokenizers) through its official Node binding, on the repository's tokenizer files.
//
//   cd tools/tokenizer_oracle && npm install tokenizers@0.23.2 && node cases.js > cases.json
const { Tokenizer } = require('tokenizers');
const fs = require('fs');
const os = require('os');
const path = require('path');
const zlib = require('zlib');

function load(name) {
  const dir = path.join(__dirname, '..', '..', 'engine', 'src', 'test', 'resources', 'tokenizers', name);
  const file = path.join(os.tmpdir(), `oracle-${name}-tokenizer.json`);
  fs.writeFileSync(file, zlib.gunzipSync(fs.readFileSync(path.join(dir, 'tokenizer.json.gz'))));
  return Tokenizer.fromFile(file);
}

const toks = { qwen3: load('qwen3'), llama3_1: load('llama3_1') };
const texts = [
  "Hello world", "Hello, World! How's it going? I'M fine, they'RE here; we'll see.", "it’s a ’t test",
  "12345678 3.14159 1,000,000 ٣٤٥ ½ ²", "a\u3000b\u00a0\u00a0c\u2003d\u0085e\u1680f\u202fg",
  "   leading and trailing   ", "line1\n\nline2\r\n\r\n  indented\n\t\ttabbed  \n", "\n\n\n", "    ",
  "안녕하세요, 세계! 한국어 텍스트입니다.", "你好，世界。日本語のテキスト。", "😀👍🏽👨‍👩‍👧🇰🇷❤️ emoji",
  "e\u0301 cafe\u0301 \u1100\u1161 \u212b ﬁ", "def f(x):\n    return x ** 2  # comment\n",
  "<|im_start|>system\nYou are helpful.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n",
  "<think>\nreasoning\n</think>\n\nanswer", "<|im_start|><|im_end|><|endoftext|>", "a<|im_start|>b", "<|im_", "<<|im_start|>>",
  "<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|>", "<|reserved_special_token_42|>",
  "ǅungla ß ſ İstanbul ΣΑΣ", "Привет мир مرحبا بالعالم שלום नमस्ते สวัสดี", "x\u200by\u200dz\ufeff", "\u0000\u0001\u007f",
  "https://example.com/path?q=1&r=2#frag user@example.com", "if (a && b) { c++; } else { d--; }", "!!!???...---", "'s's's 'S'T",
  "\u{1F600}\u{1F600}\u{1F600}", "\u{10D40}\u{10D41} \u{16D43}", " \u0301", "🏳️‍🌈 flag",
];

(async () => {
  const out = [];
  for (const m of Object.keys(toks)) for (const t of texts) for (const a of [false, true]) {
    if (a && m === 'qwen3') continue; // Qwen3 adds no special tokens of its own
    const e = await toks[m].encode(t, null, { addSpecialTokens: a });
    out.push({ m, t, a, ids: e.getIds() });
  }
  console.log(JSON.stringify(out));
})();
