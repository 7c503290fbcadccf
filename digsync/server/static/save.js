// Save & push: POST /config with If-Match, and each outcome (saved, conflict, adopt, push failed).

import { announce } from "./announce.js";
import { api, errorText } from "./api.js";
import { $, code, el } from "./dom.js";
import { buildPayload, markSaved, updateDirty } from "./draft.js";
import { refreshHistory } from "./history.js";
import { loadConfig } from "./load.js";
import { schedulePreview } from "./preview.js";
import { problemsFrom, problemText, showProblems } from "./problems.js";
import { hideResult, showResult } from "./result.js";
import { clearAfter } from "./runs.js";
import { state } from "./state.js";
import { refreshStatus } from "./status.js";
import { hasToken } from "./token.js";
import { needToken } from "./token-panel.js";

export async function save(options) {
  const adopt = Boolean(options && options.adopt);
  const confirmUndo = Boolean(options && options.confirmUndo);
  if (state.saving || state.config === null) return;
  // The save's answer supersedes any preview still pending or on its way.
  window.clearTimeout(state.previewTimer);
  state.previewSeq++;
  state.saving = true;
  const button = $("save-button");
  button.setAttribute("aria-disabled", "true");
  button.classList.add("is-busy");
  announce("Saving…");
  const payload = buildPayload();
  const headers = state.etag ? { "If-Match": state.etag } : {};
  const query = [adopt ? "adopt=true" : "", confirmUndo ? "confirm_undo_rollback=true" : ""]
    .filter(Boolean)
    .join("&");
  const r = await api("POST", "/config" + (query ? "?" + query : ""), payload, headers);
  state.saving = false;
  button.removeAttribute("aria-disabled");
  button.classList.remove("is-busy");
  updateDirty();
  const data = r.data || {};
  if (r.ok) return saved(payload, data);
  if (r.status === 400 && data.code !== "invalid_json") {
    hideResult();
    clearAfter();
    $("schedule-preview-state").textContent = "Fix the problems shown in the form to see the runs.";
    showProblems(problemsFrom(data), { summary: true, focus: true });
    announce("Not saved: fix the problems listed.");
  } else if (r.status === 401) {
    needToken(save, hasToken());
  } else if (r.status === 412) {
    showConflict();
  } else if (data.code === "undoes_rollback") {
    askToUndoRollback(data, options);
  } else if (data.code === "adopt_required") {
    askToAdopt(payload, data, options);
  } else if (data.code === "push_failed") {
    pushFailed(payload, data);
  } else {
    showResult("error", "Not saved", [
      el("p", { text: errorText(data) }),
      data.details ? el("pre", { className: "details", text: data.details }) : null,
    ]);
  }
  refreshStatus();
}

function saved(payload, data) {
  state.etag = data.etag || state.etag;
  const body = [];
  if (data.workflowUpdated) {
    const revision = code(String(data.revision || "?"));
    body.push(el("p", {}, "The workflow was updated: revision ", revision, " is now live."));
  } else {
    body.push(el("p", { text: "The workflow already matched, so nothing was pushed." }));
  }
  if (data.message) body.push(el("p", { className: "muted", text: data.message }));
  for (const note of data.scheduleCheck || []) body.push(el("p", { className: "muted", text: note }));
  if ((data.warnings || []).length) {
    const items = data.warnings.map((w) =>
      el("li", { text: (w.key_path ? w.key_path + ": " : "") + problemText(w) })
    );
    body.push(el("ul", {}, ...items));
  }
  showProblems(data.warnings || [], { summary: false });
  showResult("success", "Saved", body, true);
  announce(
    data.workflowUpdated
      ? "Saved and pushed revision " + data.revision + "."
      : "Saved; the workflow already matched."
  );
  markSaved(payload);
  refreshStatus();
  refreshHistory();
  schedulePreview(0); // "before" is now what was just pushed
}

function showConflict() {
  const reload = el("button", {
    type: "button",
    className: "button button-primary",
    id: "conflict-reload",
    text: "Reload the config",
  });
  reload.addEventListener("click", async () => {
    if (await loadConfig({ quiet: true })) {
      hideResult();
      announce("Reloaded the config; make your change again.");
      $("schedule-frequency").focus();
    }
  });
  showResult(
    "error",
    "config.yaml changed since you loaded it",
    [
      el("p", {
        text:
          "Someone else saved a change (or the file was edited) after this page " +
          "loaded it. Nothing was saved.",
      }),
      el("p", {
        text:
          "Reload to get the current version, then make your change again. " +
          "Reloading discards the edits on this page.",
      }),
      el("div", { className: "button-row" }, reload),
    ],
    true
  );
}

// The server runs a rolled-back revision: a save would push config.yaml over it.
function askToUndoRollback(data, options) {
  const rolled = (state.status && state.status.rolled_back) || {};
  const again = el("button", {
    type: "button",
    className: "button button-danger",
    id: "undo-rollback-save",
    text: "Save and undo the rollback",
  });
  again.addEventListener("click", () => save({ ...(options || {}), confirmUndo: true }));
  const to = rolled.to ? [" (revision ", code(String(rolled.to)), ")"] : [];
  showResult(
    "error",
    "Not saved: this save would undo the rollback",
    [
      el(
        "p",
        {},
        "The server runs an earlier revision",
        ...to,
        " after a rollback. Saving pushes config.yaml, which replaces it with the newer workflow."
      ),
      data.error ? el("p", { className: "muted", text: errorText(data) }) : null,
      el("div", { className: "button-row" }, again),
    ],
    true
  );
}

// The target's project was not made by digsync: replacing it is the user's call.
function askToAdopt(payload, data, options) {
  state.etag = data.etag || state.etag;
  markSaved(payload);
  const replace = el("button", {
    type: "button",
    className: "button button-danger",
    id: "adopt-push",
    text: "Replace that project",
  });
  replace.addEventListener("click", () => save({ ...(options || {}), adopt: true }));
  showResult(
    "error",
    "Saved, not pushed: the project on the target is not digsync's",
    [
      el("p", {
        text:
          "config.yaml was saved. The project it pushes to holds work that digsync did " +
          "not make, so nothing was replaced. Check workflow.project before you go on.",
      }),
      data.details ? el("pre", { className: "details", text: data.details }) : null,
      el("div", { className: "button-row" }, replace),
    ],
    true
  );
  refreshHistory();
}

function pushFailed(payload, data) {
  // The config is saved: the next save compares against the new file.
  state.etag = data.etag || state.etag;
  markSaved(payload);
  const retry = el("button", {
    type: "button",
    className: "button button-primary",
    id: "retry-push",
    text: "Retry the push",
  });
  retry.addEventListener("click", () => save());
  showResult(
    "error",
    data.error || "Config saved but workflow update failed",
    [
      el("p", {
        text:
          "config.yaml was saved, but pushing the regenerated workflow failed. " +
          "The push is pending; the server still runs the previous revision.",
      }),
      data.details ? el("pre", { className: "details", text: data.details }) : null,
      el(
        "p",
        {},
        "Retry when the target is reachable again, or run ",
        code("digsync push"),
        " where the server runs. The next save retries it too."
      ),
      el("div", { className: "button-row" }, retry),
    ],
    true
  );
  refreshHistory();
}
