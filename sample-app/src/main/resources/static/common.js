// Shared by the pages: the engine line in the header, number formats, problem details.
"use strict";

async function loadEngineInfo() {
  const el = document.getElementById("engine");
  try {
    const r = await fetch("/api/info");
    const i = await r.json();
    el.textContent = `${i.model} on ${i.backend.toUpperCase()} · ${formatBytes(i.kvBytesPerToken)} KV per token`;
    if (i.device) el.title = i.device;
    return i;
  } catch (e) {
    el.textContent = "engine unavailable";
    return null;
  }
}

function formatBytes(n) {
  if (n == null) return "–";
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let i = 0;
  let v = n;
  while (v >= 1024 && i < units.length - 1) { v /= 1024; i++; }
  return (i === 0 ? v : v.toFixed(v < 10 ? 2 : 1)) + " " + units[i];
}

function formatNumber(n, digits = 0) {
  if (n == null || Number.isNaN(n)) return "–";
  return Number(n).toLocaleString("en", { maximumFractionDigits: digits, minimumFractionDigits: digits });
}

/** The plain-words message of a failed response: problem details' detail, OpenAI's error.message, or the status. */
async function errorMessage(response) {
  try {
    const body = await response.json();
    if (body.detail) return body.detail;
    if (body.error && body.error.message) return body.error.message;
  } catch (e) { /* not JSON */ }
  return `The server answered ${response.status} ${response.statusText}.`;
}

function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "class") e.className = v;
    else if (k === "text") e.textContent = v;
    else e.setAttribute(k, v);
  }
  for (const c of children) if (c != null) e.append(c);
  return e;
}
