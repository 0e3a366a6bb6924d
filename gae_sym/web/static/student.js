"use strict";
// The student page: question list, debounced live preview, Check.
const PREVIEW_DELAY_MS = 250;
let questions = [];
let previewTimer = null;
let previewSeq = 0;

const EXPECTED = "expected";  // the select's last option: the grader types the reference

function target() {
  const id = document.getElementById("question").value;
  if (id === EXPECTED) return {expected: document.getElementById("expected").value};
  if (id === "nstep-K") return {question: "nstep-" + (document.getElementById("steps").value || "1")};
  return {question: id};
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
    err.textContent = data.error || ("error " + status);
    return;
  }
  err.textContent = "";
  setMath(out, data.mathml, data.read_as_latex);
}

function schedulePreview() {
  clearTimeout(previewTimer);
  previewTimer = setTimeout(preview, PREVIEW_DELAY_MS);
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
  document.getElementById("feedback").textContent = feedback;
  document.getElementById("hint-row").hidden = !hint;
  document.getElementById("hint").textContent = hint || "";
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

async function check() {
  const status = document.getElementById("status");
  const button = document.getElementById("check");
  const answer = document.getElementById("answer").value;
  if (!answer.trim()) { status.textContent = "type an answer first"; return; }
  button.disabled = true;
  status.textContent = "checking…";
  try {
    const reply = await postJSON("/api/check", {...target(), answer, render: true});
    if (reply.status === 200) {
      status.textContent = "";
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

document.addEventListener("DOMContentLoaded", () => {
  loadQuestions();
  document.getElementById("question").addEventListener("change", showQuestion);
  document.getElementById("answer").addEventListener("input", schedulePreview);
  document.getElementById("check").addEventListener("click", check);
  document.getElementById("answer").addEventListener("keydown", (event) => {
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) { event.preventDefault(); check(); }
  });
});
