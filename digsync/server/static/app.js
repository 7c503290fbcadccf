// digsync web UI: edit config.yaml through the Config API (docs/api.md).
// No framework and no build step: native ES modules, this one the entry. Every piece of
// data goes into the page through textContent or attributes, never as HTML; a strict CSP
// (default-src 'self') applies.

import { announce } from "./announce.js";
import { $ } from "./dom.js";
import { updateDirty } from "./draft.js";
import { bindConfirmDialog, refreshHistory } from "./history.js";
import { loadConfig } from "./load.js";
import { runPreview } from "./preview.js";
import { hideResult } from "./result.js";
import { save } from "./save.js";
import { bindSchedule } from "./schedule.js";
import { loadSchema } from "./schema.js";
import { bindScope } from "./scope.js";
import { refreshStatus } from "./status.js";
import { bindTokenPanel } from "./token-panel.js";

function bindPage() {
  // Enter in a field never saves: a push needs the button. (The form has no submit
  // button, so there is no implicit submission; this guards any that slips through.)
  $("config-form").addEventListener("submit", (e) => {
    e.preventDefault();
  });
  $("save-button").addEventListener("click", () => save());
  $("result-close").addEventListener("click", () => {
    hideResult();
    const next = $("save-button").disabled ? $("preview-button") : $("save-button");
    next.focus();
  });
  $("preview-button").addEventListener("click", () => runPreview(true));
  $("status-refresh").addEventListener("click", async () => {
    await refreshStatus();
    announce("Status refreshed.");
  });
  $("history-refresh").addEventListener("click", async () => {
    await refreshHistory();
    announce("History refreshed.");
  });
  $("load-retry").addEventListener("click", () => loadConfig());
  bindTokenPanel();
  bindConfirmDialog();
}

async function start() {
  bindSchedule();
  bindScope();
  bindPage();
  updateDirty();
  refreshStatus();
  refreshHistory();
  await loadSchema(); // the choices come from the served schema, before the form is drawn
  loadConfig({ quiet: true });
}

if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
else start();
