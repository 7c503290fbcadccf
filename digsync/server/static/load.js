// Loading config.yaml (and its ETag) into the form.

import { announce } from "./announce.js";
import { api, errorText } from "./api.js";
import { $ } from "./dom.js";
import { updateDirty } from "./draft.js";
import { clone } from "./json.js";
import { renderNotifications } from "./notifications.js";
import { schedulePreview } from "./preview.js";
import { showProblems } from "./problems.js";
import { renderSchedule, resetTimeMemo } from "./schedule.js";
import { LISTS, renderList } from "./scope.js";
import { state } from "./state.js";
import { renderSyncMode } from "./sync-mode.js";

export async function loadConfig(options) {
  const quiet = options && options.quiet;
  const form = $("config-form");
  form.setAttribute("aria-busy", "true");
  const r = await api("GET", "/config");
  if (!r.ok || !r.data || typeof r.data !== "object" || Array.isArray(r.data)) {
    $("load-error").hidden = false;
    const text = r.data ? errorText(r.data) : "Status " + r.status;
    $("load-error-text").textContent = text + (r.data && r.data.details ? ": " + r.data.details : "");
    return false;
  }
  $("load-error").hidden = true;
  state.config = r.data;
  state.original = clone(r.data);
  state.etag = r.headers.get("ETag");
  resetTimeMemo();
  renderForm();
  showProblems([], {});
  form.setAttribute("aria-busy", "false");
  updateDirty();
  schedulePreview(0);
  if (!quiet) announce("Config loaded.");
  return true;
}

function renderForm() {
  renderSchedule();
  for (const spec of LISTS) renderList(spec);
  renderSyncMode();
  renderNotifications();
}
