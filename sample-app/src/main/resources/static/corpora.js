// The corpora page: upload files into a corpus, watch it being prepared, delete it.
"use strict";

const uploadForm = document.getElementById("upload");
const nameInput = document.getElementById("corpus-name");
const filesInput = document.getElementById("files");
const uploadButton = document.getElementById("upload-button");
const uploadError = document.getElementById("upload-error");
const uploadInfo = document.getElementById("upload-info");
const tbody = document.querySelector("#corpora tbody");
const RESIDENCE = {
  device: "GPU memory",
  host: "CPU memory",
  disk: "disk (restored on first question)",
};
let pollTimer = null;

function statusCell(c) {
  const td = el("td", { class: "state" });
  td.append(el("span", { class: `status ${c.status}`, text: c.status }));
  if (c.status === "preparing" || c.status === "queued") {
    const p = c.progress;
    const bar = el("progress", { max: "100", "aria-label": `Preparing ${c.name}` });
    if (p) {
      bar.value = p.percent;
      td.append(bar, el("div", { class: "hint", text:
          `${p.stage}: ${formatNumber(p.doneTokens)} of ${formatNumber(p.totalTokens)} tokens (${formatNumber(p.percent, 1)} %)` }));
    } else {
      td.append(bar);
    }
  }
  if (c.status === "failed" && c.error) td.append(el("div", { class: "hint", text: c.error }));
  return td;
}

function row(c) {
  const docs = el("ul", { class: "docs" });
  for (const d of c.documents) {
    docs.append(el("li", {}, d.fileName + " ", el("span", { class: "size", text: `(${formatBytes(d.sizeBytes)})` })));
  }
  const remove = el("button", { type: "button", class: "danger", "aria-label": `Delete corpus ${c.name}`, text: "Delete" });
  remove.addEventListener("click", () => deleteCorpus(c.name, remove));
  const ask = el("a", { class: "button", href: `index.html?corpus=${encodeURIComponent(c.name)}`, text: "Ask",
    "aria-label": `Ask corpus ${c.name}` });
  return el("tr", { "data-corpus": c.name },
      el("th", { scope: "row" }, c.name),
      el("td", {}, docs),
      statusCell(c),
      el("td", { class: "num", text: formatNumber(c.tokens) }),
      el("td", { class: "num", text: c.kvBytes != null ? formatBytes(c.kvBytes) : "–" }),
      el("td", {}, c.residence ? el("span", { class: "residence", text: RESIDENCE[c.residence] || c.residence }) : "–"),
      el("td", { class: "actions" }, c.status === "ready" ? ask : null, remove));
}

async function refresh() {
  clearTimeout(pollTimer);
  let corpora = [];
  try {
    const r = await fetch("/api/corpora");
    if (!r.ok) throw new Error(await errorMessage(r));
    corpora = await r.json();
    document.getElementById("list-error").textContent = "";
  } catch (e) {
    document.getElementById("list-error").textContent = e.message;
  }
  tbody.replaceChildren(...corpora.map(row));
  document.getElementById("no-corpora").hidden = corpora.length > 0;
  document.getElementById("corpus-names").replaceChildren(...corpora.map(c => el("option", { value: c.name })));
  const busy = corpora.some(c => c.status === "preparing" || c.status === "queued");
  pollTimer = setTimeout(refresh, busy ? 500 : 5000);
}

async function deleteCorpus(name, button) {
  if (!confirm(`Delete corpus ${name} with its documents and cached KV?`)) return;
  button.disabled = true;
  const r = await fetch(`/api/corpora/${encodeURIComponent(name)}`, { method: "DELETE" });
  if (!r.ok) document.getElementById("list-error").textContent = await errorMessage(r);
  refresh();
}

uploadForm.addEventListener("submit", async e => {
  e.preventDefault();
  uploadError.textContent = "";
  uploadInfo.textContent = "";
  if (!uploadForm.reportValidity()) return;
  const name = nameInput.value.trim();
  const data = new FormData();
  for (const f of filesInput.files) data.append("files", f, f.name);
  uploadButton.disabled = true;
  try {
    const r = await fetch(`/api/corpora/${encodeURIComponent(name)}/documents`, { method: "POST", body: data });
    if (!r.ok) throw new Error(await errorMessage(r));
    const n = filesInput.files.length;
    uploadInfo.textContent = `${n} file${n === 1 ? "" : "s"} added to ${name}; the corpus is being prepared.`;
    filesInput.value = "";
  } catch (err) {
    uploadError.textContent = err.message;
  } finally {
    uploadButton.disabled = false;
    refresh();
  }
});

loadEngineInfo().then(i => {
  if (i) document.getElementById("limits").textContent = `; up to ${i.maxFiles} files of ${formatBytes(i.maxFileBytes)} each`;
});
refresh();
