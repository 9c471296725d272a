// The chat page: asks through POST /api/chat and shows the answer as its server-sent events arrive.
"use strict";

const form = document.getElementById("ask");
const corpusSelect = document.getElementById("corpus");
const question = document.getElementById("question");
const askButton = document.getElementById("ask-button");
const errorBox = document.getElementById("chat-error");
const conversation = document.getElementById("conversation");
let history = [];
let historyCorpus = null;

async function loadCorpora() {
  const chosen = corpusSelect.value || new URLSearchParams(location.search).get("corpus");
  const r = await fetch("/api/corpora");
  const corpora = r.ok ? await r.json() : [];
  corpusSelect.replaceChildren(el("option", { value: "", text: "No corpus: the model alone" }));
  for (const c of corpora) {
    const ready = c.status === "ready";
    const label = ready ? `${c.name} (${formatNumber(c.tokens)} tokens)` : `${c.name} (${c.status})`;
    const option = el("option", { value: c.name, text: label });
    if (!ready) option.disabled = true;
    corpusSelect.append(option);
  }
  const firstReady = corpora.find(c => c.status === "ready");
  if (chosen && corpora.some(c => c.name === chosen && c.status === "ready")) corpusSelect.value = chosen;
  else if (firstReady) corpusSelect.value = firstReady.name;
}

function statsList(s) {
  const items = [
    ["Time to first token", `${formatNumber(s.timeToFirstTokenMs)} ms`],
    ["Tokens per second", formatNumber(s.tokensPerSecond, 1)],
    ["Prompt tokens", formatNumber(s.promptTokens)],
    ["Cached tokens", formatNumber(s.cachedTokens)],
    ["Prefilled tokens", formatNumber(s.prefilledTokens)],
    ["Answer tokens", formatNumber(s.completionTokens)],
    ["Attended per step", `${formatNumber(s.attendedTokensPerStep)} of ${formatNumber(s.contextTokensPerStep)}`],
    ["Selected per step", formatNumber(s.selectedTokensPerStep)],
    ["Selection cache hits", `${formatNumber(100 * s.selectionCacheHitRate, 1)} %`],
  ];
  const dl = el("dl", { class: "stats", "aria-label": "Answer statistics" });
  for (const [name, value] of items) {
    dl.append(el("div", {}, el("dt", { text: name }), el("dd", { text: value })));
  }
  return dl;
}

/** Reads a text/event-stream body, calling onEvent(name, data) for each event. */
async function readEvents(response, onEvent) {
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    buffer += decoder.decode(value || new Uint8Array(), { stream: !done });
    let end;
    while ((end = buffer.search(/\r?\n\r?\n/)) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end).replace(/^\r?\n\r?\n/, "");
      let name = "message";
      const data = [];
      for (const line of block.split(/\r?\n/)) {
        if (line.startsWith("event:")) name = line.slice(6).trim();
        else if (line.startsWith("data:")) data.push(line.slice(5).replace(/^ /, ""));
      }
      if (data.length) onEvent(name, data.join("\n"));
    }
    if (done) return;
  }
}

async function ask(text) {
  const corpus = corpusSelect.value || null;
  if (corpus !== historyCorpus) { history = []; historyCorpus = corpus; }
  errorBox.textContent = "";
  document.getElementById("conversation-empty").hidden = true;
  const userTurn = el("li", {}, el("div", { class: "turn user" },
      el("p", { class: "who", text: corpus ? `You · ${corpus}` : "You" }), el("p", { class: "text", text: text })));
  const answerText = el("p", { class: "text answer" });
  const answerTurn = el("div", { class: "turn assistant", "aria-busy": "true" },
      el("p", { class: "who", text: "Answer" }), answerText);
  conversation.append(userTurn, el("li", {}, answerTurn));
  answerTurn.scrollIntoView({ block: "nearest" });

  askButton.disabled = true;
  let answer = "";
  try {
    const response = await fetch("/api/chat", {
      method: "POST",
      headers: { "Content-Type": "application/json", "Accept": "text/event-stream" },
      body: JSON.stringify({ corpus, message: text, history }),
    });
    if (!response.ok) throw new Error(await errorMessage(response));
    await readEvents(response, (name, data) => {
      const payload = JSON.parse(data);
      if (name === "delta") {
        answer += payload.text;
        answerText.textContent = answer;
      } else if (name === "stats") {
        answerTurn.append(statsList(payload));
      } else if (name === "error") {
        throw new Error(payload.message);
      }
    });
    history.push({ role: "user", content: text }, { role: "assistant", content: answer });
  } catch (e) {
    errorBox.textContent = e.message;
    answerTurn.append(el("p", { class: "message error", text: "The answer stopped: " + e.message }));
  } finally {
    answerTurn.setAttribute("aria-busy", "false");
    askButton.disabled = false;
  }
}

form.addEventListener("submit", e => {
  e.preventDefault();
  const text = question.value.trim();
  if (!text) { errorBox.textContent = "Type a question first."; question.focus(); return; }
  question.value = "";
  ask(text);
});
question.addEventListener("keydown", e => {
  if (e.key === "Enter" && !e.shiftKey) { e.preventDefault(); form.requestSubmit(); }
});
document.getElementById("new-conversation").addEventListener("click", () => {
  history = [];
  conversation.replaceChildren();
  document.getElementById("conversation-empty").hidden = false;
  question.focus();
});

loadEngineInfo();
loadCorpora();
