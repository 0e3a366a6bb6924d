"use strict";
// The student page: question list, a single answer or a derivation, debounced live
// preview, Check.
const PREVIEW_DELAY_MS = 250;
const DERIVATION_PREVIEW_DELAY_MS = 400;  // a derivation is longer: read it less often
let questions = [];
let previewTimer = null;
let previewSeq = 0;
let derivationTimer = null;
let derivationSeq = 0;

const EXPECTED = "expected";  // the select's last option: the grader types the reference

function target() {
  const id = document.getElementById("question").value;
  if (id === EXPECTED) return {expected: document.getElementById("expected").value};
  if (id === "nstep-K") return {question: "nstep-" + (document.getElementById("steps").value || "1")};
  return {question: id};
}

function derivationMode() {
  return document.getElementById("mode-derivation").checked;
}

function showMode() {
  const derivation = derivationMode();
  document.getElementById("answer-mode").hidden = derivation;
  document.getElementById("derivation-mode").hidden = !derivation;
  document.getElementById("result").hidden = true;
  document.getElementById("status").textContent = "";
  // A derivation answers a catalogue question: "an expected expression" is not offered.
  const select = document.getElementById("question");
  const own = select.querySelector(`option[value="${EXPECTED}"]`);
  if (own) own.disabled = derivation;
  if (derivation && select.value === EXPECTED) {
    select.selectedIndex = 0;
    showQuestion();
  }
  if (derivation) scheduleDerivationPreview();
}

// A message as the server split it (words, and math as MathML or plain Unicode text), so
// that no LaTeX source such as \frac{..}{..} reaches the student; the raw text otherwise.
function setParts(element, parts, fallbackText) {
  element.replaceChildren();
  if (!parts || !parts.length) { element.textContent = fallbackText || ""; return; }
  for (const part of parts) {
    if (part.mathml) {
      const span = el("span", null, "math");
      setMath(span, part.mathml, part.text);
      element.appendChild(span);
    } else {
      element.appendChild(document.createTextNode(part.text));
    }
  }
}

function showQuestion() {
  const id = document.getElementById("question").value;
  const q = questions.find((x) => x.id === id);
  document.getElementById("steps-field").hidden = id !== "nstep-K";
  document.getElementById("expected-field").hidden = id !== EXPECTED;
  const text = document.getElementById("question-text");
  text.replaceChildren();
  if (!q) return;
  for (const part of q.parts) {
    if (part.mathml) {
      const span = el("span", null, "math");
      setMath(span, part.mathml, part.text);
      text.appendChild(span);
    } else {
      text.appendChild(document.createTextNode(part.text));
    }
  }
}

async function loadQuestions() {
  const response = await fetch("/api/questions");
  questions = (await response.json()).questions;
  const select = document.getElementById("question");
  for (const q of questions) {
    const option = el("option", q.id);
    option.value = q.id;
    select.appendChild(option);
  }
  const own = el("option", "an expected expression…");
  own.value = EXPECTED;
  select.appendChild(own);
  showQuestion();
}

async function preview() {
  const answer = document.getElementById("answer").value;
  const seq = ++previewSeq;
  const out = document.getElementById("preview");
  const err = document.getElementById("preview-error");
  if (!answer.trim()) { out.replaceChildren(); err.textContent = ""; return; }
  const {status, data} = await postJSON("/api/preview", {answer});
  if (seq !== previewSeq) return;  // a newer keystroke's preview is on its way
  if (status === 429) return;      // busy: the next keystroke tries again
  if (status !== 200 || data.error) {
    out.replaceChildren();
    setParts(err, data.error_parts, data.error || ("error " + status));
    return;
  }
  err.textContent = "";
  setMath(out, data.mathml, data.read_as_latex);
}

function schedulePreview() {
  clearTimeout(previewTimer);
  previewTimer = setTimeout(preview, PREVIEW_DELAY_MS);
}

// Each line of the derivation as read (the validation echo), one row a line.
async function previewDerivation() {
  const derivation = document.getElementById("derivation").value;
  const seq = ++derivationSeq;
  const body = document.querySelector("#derivation-preview tbody");
  const err = document.getElementById("derivation-preview-error");
  if (!derivation.trim()) { body.replaceChildren(); err.textContent = ""; return; }
  const {status, data} = await postJSON("/api/preview", {derivation});
  if (seq !== derivationSeq) return;  // a newer keystroke's preview is on its way
  if (status === 429) return;         // busy: the next keystroke tries again
  body.replaceChildren();
  err.textContent = status === 200 ? (data.error || "") : (data.error || ("error " + status));
  if (status !== 200) return;
  for (const line of data.lines) {
    const row = el("tr");
    row.dataset.line = line.source_line;
    row.appendChild(el("th", "line " + line.source_line));
    const cell = el("td", null, "math");
    if (line.error) {
      cell.className = "error-text";
      setParts(cell, line.error_parts, line.error);
      row.dataset.error = "1";
    } else {
      setMath(cell, line.mathml, line.read_as_latex);
    }
    row.appendChild(cell);
    body.appendChild(row);
  }
}

function scheduleDerivationPreview() {
  clearTimeout(derivationTimer);
  derivationTimer = setTimeout(previewDerivation, DERIVATION_PREVIEW_DELAY_MS);
}

const COUNTEREXAMPLE_LABELS = {
  gamma: "γ", lambda: "λ", n: "n", t: "t", rewards: "rewards", values: "values",
  answer_value: "your answer", reference_value: "reference", difference: "answer − reference",
};

function showResult(data) {
  document.getElementById("result").hidden = false;
  const verdict = document.getElementById("verdict");
  verdict.textContent = data.verdict;
  verdict.className = "verdict-" + data.verdict;
  document.getElementById("read-as-row").hidden = !data.parsed_latex;
  setMath(document.getElementById("read-as"), data.parsed_mathml, data.parsed_latex);
  const hint = data.mistake && data.mistake.hint;
  let feedback = data.feedback || "";
  // The hint has its own row: do not say it twice.
  if (hint && feedback.includes(" Hint: ")) feedback = feedback.slice(0, feedback.indexOf(" Hint: "));
  const readable = data.readable || {};
  setParts(document.getElementById("feedback"), readable.feedback, feedback);
  document.getElementById("hint-row").hidden = !hint;
  setParts(document.getElementById("hint"), readable.hint, hint || "");
  const assumptions = data.assumptions || [];
  document.getElementById("assumptions-row").hidden = !assumptions.length;
  document.getElementById("assumptions").textContent = assumptions.join("; ");
  const box = document.getElementById("counterexample-box");
  const body = document.querySelector("#counterexample tbody");
  body.replaceChildren();
  box.hidden = !data.counterexample;
  if (data.counterexample) {
    for (const [name, value] of Object.entries(data.counterexample)) {
      const row = el("tr");
      row.appendChild(el("th", COUNTEREXAMPLE_LABELS[name] || name));
      row.appendChild(el("td", value));
      row.dataset.field = name;
      body.appendChild(row);
    }
  }
}

// --- derivation results -----------------------------------------------------------------

const SKIPPED = "the line before it could not be read";

// "ok", "fails (…)" or "not checked" for one line of the checker's report.
function lineStatus(entry, isLast, data) {
  if (!entry) return "not checked";
  if (entry.status === "justified") {
    // Every line justified, but the last one is not the question's answer.
    return isLast && data.verdict !== "correct" && data.first_wrong_line === entry.source_line
      ? "fails (not the answer)" : "ok";
  }
  if (entry.status === "unjustified" && (entry.why || "").startsWith(SKIPPED)) return "not checked";
  return "fails (" + entry.status + ")";
}

function fmt(value) {
  const number = Number(value);
  return Number.isFinite(number) ? String(Number(number.toPrecision(6))) : String(value);
}

function showDerivationCounterexample(example, againstReference) {
  const box = document.getElementById("counterexample-box");
  const body = document.querySelector("#counterexample tbody");
  const windowBox = document.getElementById("window-box");
  const windowBody = document.querySelector("#counterexample-window tbody");
  body.replaceChildren();
  windowBody.replaceChildren();
  box.hidden = !example;
  windowBox.hidden = true;
  if (!example) return;
  const rows = Object.entries(example.values || {}).map(
    ([name, value]) => [name, COUNTEREXAMPLE_LABELS[name] || name, fmt(value)]);
  rows.push(["previous", againstReference ? "your last line" : "the line before", fmt(example.previous)]);
  rows.push(["this_line", againstReference ? "the reference" : "this line", fmt(example.this_line)]);
  for (const [field, label, value] of rows) {
    const row = el("tr");
    row.dataset.field = field;
    row.appendChild(el("th", label));
    row.appendChild(el("td", value));
    body.appendChild(row);
  }
  const sequences = Object.entries(example.sequences || {});
  if (!sequences.length) return;
  windowBox.hidden = false;
  // One row an index, one column a sequence (r, V, δ …): the values near t that told the
  // two lines apart.
  const header = el("tr");
  header.appendChild(el("th", "index"));
  for (const [label] of sequences) {
    const cell = el("th", label);
    cell.dataset.sequence = label;
    header.appendChild(cell);
  }
  windowBody.appendChild(header);
  const indices = [...new Set(sequences.flatMap(([, entries]) => Object.keys(entries)))]
    .map(Number).sort((a, b) => a - b);
  for (const index of indices) {
    const row = el("tr");
    row.dataset.index = index;
    row.appendChild(el("th", index));
    for (const [, entries] of sequences) row.appendChild(el("td", index in entries ? fmt(entries[index]) : ""));
    windowBody.appendChild(row);
  }
}

function showDerivationResult(data) {
  document.getElementById("result").hidden = false;
  const verdict = document.getElementById("verdict");
  verdict.textContent = data.verdict;
  verdict.className = "verdict-" + data.verdict;
  document.getElementById("read-as-row").hidden = true;
  const readable = data.readable || {};
  setParts(document.getElementById("feedback"), readable.feedback, data.feedback || "");
  const hint = data.mistake && data.mistake.hint;
  document.getElementById("hint-row").hidden = !hint;
  setParts(document.getElementById("hint"), readable.hint, hint || "");
  const report = data.derivation;
  const assumptions = (report && report.assumptions) || [];
  document.getElementById("assumptions-row").hidden = !assumptions.length;
  document.getElementById("assumptions").textContent = assumptions.join(", ");
  // The rows: the lines as written (the server's typesetting), joined in order with the
  // checker's report of each line.
  const written = data.lines_mathml || [];
  const checked = (report && report.lines) || [];
  const count = Math.max(written.length, checked.length);
  const body = document.querySelector("#derivation-lines tbody");
  body.replaceChildren();
  let failing = null;
  for (let i = 0; i < count; i++) {
    const entry = checked[i] || null;
    const line = written[i] || null;
    const number = entry ? entry.source_line : line.source_line;
    const status = lineStatus(entry, i === checked.length - 1, data);
    const row = el("tr");
    row.dataset.line = number;
    row.dataset.status = status.split(" (")[0];
    row.appendChild(el("th", number));
    const math = el("td", null, "math");
    setMath(math, line && line.mathml, line ? line.latex : entry.latex);
    if (entry && entry.reason) math.appendChild(el("span", entry.reason, "stated"));  // the student's own
    row.appendChild(math);
    row.appendChild(el("td", status, "line-status"));
    let why = entry ? (entry.why || "") : "";
    let whyParts = entry ? (readable.lines || [])[i] : null;
    if (status === "fails (not the answer)") { why = data.feedback; whyParts = readable.feedback; }
    const whyCell = el("td", null, "why");
    setParts(whyCell, whyParts, why);
    row.appendChild(whyCell);
    if (status.startsWith("fails") && failing === null) {
      failing = {againstReference: entry.status === "justified"};
      row.className = "failing";
    }
    body.appendChild(row);
  }
  document.getElementById("derivation-box").hidden = !count;
  showDerivationCounterexample(data.counterexample, failing && failing.againstReference);
}

async function check() {
  if (derivationMode()) return checkDerivation();
  const status = document.getElementById("status");
  const button = document.getElementById("check");
  const answer = document.getElementById("answer").value;
  if (!answer.trim()) { status.textContent = "type an answer first"; return; }
  button.disabled = true;
  status.textContent = "checking…";
  try {
    const reply = await postJSON("/api/check", {...target(), answer, render: true, readable: true});
    if (reply.status === 200) {
      status.textContent = "";
      document.getElementById("derivation-box").hidden = true;
      document.getElementById("window-box").hidden = true;
      showResult(reply.data);
    } else if (reply.status === 429) {
      status.textContent = "the checker is busy; try again in a moment";
    } else {
      status.textContent = reply.data.error || ("error " + reply.status);
    }
  } catch (e) {
    status.textContent = "the server cannot be reached";
  } finally {
    button.disabled = false;
  }
}

async function checkDerivation() {
  const status = document.getElementById("status");
  const button = document.getElementById("check");
  const derivation = document.getElementById("derivation").value;
  if (!derivation.trim()) { status.textContent = "type a derivation first"; return; }
  const question = target().question;
  button.disabled = true;
  status.textContent = "checking every line (a few seconds)…";
  try {
    const reply = await postJSON("/api/check", {question, derivation, render: true, readable: true});
    if (reply.status === 200) {
      status.textContent = "";
      showDerivationResult(reply.data);
    } else if (reply.status === 429) {
      status.textContent = "the derivation checker is busy; try again in a moment";
    } else {
      status.textContent = reply.data.error || ("error " + reply.status);
    }
  } catch (e) {
    status.textContent = "the server cannot be reached";
  } finally {
    button.disabled = false;
  }
}

document.addEventListener("DOMContentLoaded", () => {
  loadQuestions();
  document.getElementById("question").addEventListener("change", showQuestion);
  document.getElementById("answer").addEventListener("input", schedulePreview);
  document.getElementById("derivation").addEventListener("input", scheduleDerivationPreview);
  for (const radio of document.querySelectorAll("input[name=mode]")) {
    radio.addEventListener("change", showMode);
  }
  document.getElementById("derivation").addEventListener("keydown", (event) => {
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) { event.preventDefault(); check(); }
  });
  document.getElementById("check").addEventListener("click", check);
  document.getElementById("answer").addEventListener("keydown", (event) => {
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) { event.preventDefault(); check(); }
  });
});
