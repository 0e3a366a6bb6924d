"use strict";
// The grader page: upload a key and a class, follow the progress, show the table.
const POLL_MS = 300;

function showReport(job) {
  const doc = job.result;
  document.getElementById("report").hidden = false;
  document.getElementById("download").href = "/api/grade/" + encodeURIComponent(job.job) + "/report.csv";
  const s = doc.summary;
  document.getElementById("summary").textContent =
    s.students + " students, " + s.answers + " answers, " + s.distinct_checks +
    " distinct answers checked in " + job.seconds.toFixed(1) + " s";
  const questions = doc.students.length ? doc.students[0].answers.map((a) => a.question) : [];
  const head = document.querySelector("#results thead");
  const body = document.querySelector("#results tbody");
  head.replaceChildren();
  body.replaceChildren();
  const headRow = el("tr");
  headRow.appendChild(el("th", "student"));
  for (const q of questions) headRow.appendChild(el("th", q));
  headRow.appendChild(el("th", "total"));
  head.appendChild(headRow);
  for (const student of doc.students) {
    const row = el("tr");
    row.appendChild(el("td", student.student));
    for (const a of student.answers) {
      const cell = el("td", a.verdict + " " + a.points + "/" + a.max_points, "verdict-" + a.verdict);
      if (a.hint) cell.title = a.hint;
      row.appendChild(cell);
    }
    row.appendChild(el("td", student.total + "/" + student.max_total, "total"));
    body.appendChild(row);
  }
  const hints = document.querySelector("#hints tbody");
  hints.replaceChildren();
  for (const student of doc.students) {
    for (const a of student.answers) {
      if (a.verdict === "correct" || !a.hint) continue;
      const row = el("tr");
      row.appendChild(el("td", student.student));
      row.appendChild(el("td", a.question));
      row.appendChild(el("td", a.verdict, "verdict-" + a.verdict));
      row.appendChild(el("td", a.hint));
      hints.appendChild(row);
    }
  }
  document.getElementById("hints-title").hidden = !hints.children.length;
}

async function poll(jobId) {
  const response = await fetch("/api/grade/" + encodeURIComponent(jobId));
  const job = await response.json();
  const bar = document.getElementById("progress");
  bar.max = Math.max(job.total, 1);
  bar.value = job.done;
  document.getElementById("progress-text").textContent = job.done + " / " + job.total + " checked";
  if (job.status === "running") { setTimeout(() => poll(jobId), POLL_MS); return; }
  const status = document.getElementById("status");
  if (job.status === "error") { status.textContent = job.error; return; }
  status.textContent = "done";
  showReport(job);
}

async function upload(event) {
  event.preventDefault();
  const status = document.getElementById("status");
  const key = document.getElementById("key").files[0];
  const answers = document.getElementById("answers").files[0];
  if (!key || !answers) { status.textContent = "choose a key and an answers file"; return; }
  const form = new FormData();
  form.append("key", key);
  form.append("answers", answers);
  document.getElementById("report").hidden = true;
  status.textContent = "uploading…";
  const response = await fetch("/api/grade", {method: "POST", body: form});
  let data;
  try { data = await response.json(); } catch (e) { data = {error: "error " + response.status}; }
  if (response.status !== 202) { status.textContent = data.error; return; }
  status.textContent = "grading…";
  document.getElementById("progress-row").hidden = false;
  poll(data.job);
}

document.addEventListener("DOMContentLoaded", () => {
  document.getElementById("grade-form").addEventListener("submit", upload);
});
