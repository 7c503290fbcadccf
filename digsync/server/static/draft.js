// The draft: the config being edited, what is sent, and whether it differs from config.yaml.

import { $ } from "./dom.js";
import { clone, stableJson } from "./json.js";
import { state } from "./state.js";

export function buildPayload() {
  return clone(state.config);
}

function isDirty() {
  return state.config !== null && stableJson(state.config) !== stableJson(state.original);
}

// Save & push is off until the draft differs from the config as loaded or last saved.
export function updateDirty() {
  const dirty = isDirty();
  $("dirty-note").textContent = dirty ? "Unsaved changes" : "";
  $("save-button").disabled = !dirty;
  $("save-hint").textContent = dirty ? "" : "Nothing to save: the form matches config.yaml.";
}

// What was sent is what config.yaml holds now (webhook URLs stay masked: the page
// never has them). No reload: it could overwrite edits made while the save was on its way.
export function markSaved(payload) {
  state.original = clone(payload);
  updateDirty();
}
