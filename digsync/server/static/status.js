// The status card (GET /status), the project line in the header and the rollback warning.

import { withoutShellHint } from "./advice.js";
import { api, errorText } from "./api.js";
import { formatTime } from "./dates.js";
import { $, code, el } from "./dom.js";
import { state } from "./state.js";

export function setProject(project, target) {
  const line = $("project-line");
  if (project) line.dataset.project = project;
  if (target) line.dataset.target = target;
  const parts = [];
  if (line.dataset.project) parts.push("Project " + line.dataset.project);
  if (line.dataset.target) parts.push("target " + line.dataset.target);
  line.textContent = parts.length ? parts.join(", ") + "." : "";
}

export async function refreshStatus() {
  const body = $("status-body");
  const r = await api("GET", "/status");
  if (!r.ok || !r.data) {
    const text = "⚠ Status unavailable: " + errorText(r.data);
    body.replaceChildren(el("p", { className: "status-line status-error", text }));
    return;
  }
  const s = r.data;
  state.status = s;
  renderUndoWarning();
  setProject(s.project, s.target);
  const rows = [];
  let headline;
  if (s.pending) {
    headline = el("p", { className: "status-line status-pending", id: "status-state" }, "⏳ Push pending");
  } else if (s.in_sync) {
    headline = el("p", { className: "status-line status-ok", id: "status-state" }, "✓ In sync");
  } else {
    headline = el("p", { className: "status-line status-drift", id: "status-state" }, "⚠ Drift");
  }
  rows.push(headline);
  const dl = el("dl", { className: "facts" });
  const fact = (term, value) => dl.append(el("dt", { text: term }), el("dd", {}, value));
  fact("Project", s.project || "");
  fact("Target", s.target || "");
  fact("Server revision", s.server_revision ? code(s.server_revision) : "none yet");
  rows.push(dl);
  if (s.pending) {
    rows.push(
      el(
        "div",
        { className: "pending" },
        el("p", {
          text:
            "Since " + formatTime(s.pending.since) + ", " + s.pending.attempts +
            " failed attempt(s): " + s.pending.error,
        }),
        el("p", {}, "It is retried on the next save, or run ", code("digsync push"), ".")
      )
    );
  }
  let drift = Array.isArray(s.drift) ? s.drift : [];
  const rolled = rolledBack(s);
  if (rolled) {
    // Not "config.yaml changed": the server runs an earlier revision on purpose.
    drift = drift.filter((d) => !/changed since the last push/.test(d));
    rows.push(
      el(
        "p",
        { className: "rolled-back", id: "rolled-back-note" },
        "The server runs earlier revision ",
        code(String(rolled.to || "?")),
        rolled.from ? " (rolled back from " : "",
        rolled.from ? code(String(rolled.from)) : "",
        rolled.from ? ")" : "",
        "; config.yaml is ahead of it."
      )
    );
  }
  if (drift.length) {
    rows.push(el("ul", { className: "drift" }, ...drift.map((d) => el("li", { text: withoutShellHint(d) }))));
  }
  body.replaceChildren(...rows);
}

function rolledBack(s) {
  const rolled = s && s.rolled_back;
  return rolled && typeof rolled === "object" ? rolled : null;
}

// Beside Save & push: saving now pushes config.yaml over the rolled-back revision.
function renderUndoWarning() {
  const warning = $("undo-warning");
  const rolled = rolledBack(state.status);
  if (!rolled) {
    warning.hidden = true;
    warning.textContent = "";
    return;
  }
  warning.replaceChildren(
    el("strong", { text: "Warning: " }),
    "the server runs earlier revision ",
    code(String(rolled.to || "?")),
    " after a rollback. Save & push pushes config.yaml and undoes the rollback."
  );
  warning.hidden = false;
}
