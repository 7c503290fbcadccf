// The live preview: POST /preview for the draft, debounced, stale answers dropped.

import { announce } from "./announce.js";
import { api, errorText } from "./api.js";
import { renderDiffPanel } from "./diff.js";
import { $ } from "./dom.js";
import { buildPayload } from "./draft.js";
import { problemsFrom, showProblems } from "./problems.js";
import { clearAfter, renderSchedulePreview } from "./runs.js";
import { state } from "./state.js";
import { setProject } from "./status.js";
import { hasToken } from "./token.js";
import { needToken } from "./token-panel.js";

export function schedulePreview(delay) {
  window.clearTimeout(state.previewTimer);
  state.previewTimer = window.setTimeout(() => runPreview(false), delay);
}

export async function runPreview(fromButton) {
  window.clearTimeout(state.previewTimer);
  if (state.config === null) return;
  const seq = ++state.previewSeq;
  $("schedule-preview-state").textContent = "Updating…";
  $("schedule-preview").setAttribute("aria-busy", "true");
  const r = await api("POST", "/preview", buildPayload());
  if (seq !== state.previewSeq) {
    // A newer preview is on its way: this answer is stale. Counted for the tests.
    const box = $("schedule-preview");
    box.dataset.dropped = String(Number(box.dataset.dropped || 0) + 1);
    return;
  }
  previewDone(seq);
  if (r.ok && r.data) {
    showProblems(r.data.warnings || [], { summary: false });
    renderSchedulePreview(r.data.schedule || {});
    $("schedule-preview-state").textContent = "";
    if (r.data.project) setProject(r.data.project, null);
    if (fromButton || !$("diff-panel").hidden) renderDiffPanel(r.data, fromButton);
    if (fromButton) {
      announce(r.data.changed ? "Preview ready: the workflow changes." : "Preview ready: no change.");
    }
  } else if (r.status === 400) {
    clearAfter();
    $("schedule-preview-state").textContent = "Fix the problems shown in the form to see the runs.";
    showProblems(problemsFrom(r.data), { summary: fromButton, focus: fromButton });
    if (fromButton) $("diff-panel").hidden = true;
  } else if (r.status === 401) {
    $("schedule-preview-state").textContent = "The preview needs an API token.";
    needToken(() => runPreview(fromButton), hasToken());
  } else {
    $("schedule-preview-state").textContent =
      "Preview failed: " + errorText(r.data) + (r.data.details ? " (" + r.data.details + ")" : "");
  }
}

function previewDone() {
  $("schedule-preview").setAttribute("aria-busy", "false");
}
