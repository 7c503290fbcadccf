// The sync mode radios: full or delta, drawn from the values the schema lists.

import { $, el } from "./dom.js";
import { edited } from "./edited.js";
import { getPath, setPath } from "./keypath.js";
import { state } from "./state.js";

const SYNC_MODE_TEXT = {
  full: ["Full", "Every column, every run."],
  delta: ["Delta", "Only what changed since the last sync."],
};

export function renderSyncModeOptions(values) {
  const modes = $("sync-mode-options");
  modes.replaceChildren();
  for (const mode of values) {
    const [label, hint] = SYNC_MODE_TEXT[mode] || [mode, ""];
    const id = "sync-mode-" + mode;
    const input = el("input", {
      type: "radio",
      name: "sync-mode",
      id,
      value: mode,
      "aria-describedby": hint ? id + "-hint" : null,
    });
    input.addEventListener("change", () => {
      if (input.checked) setPath(state.config, ["sync", "sync_mode"], mode);
      edited();
    });
    modes.append(
      el(
        "div",
        { className: "field field-check" },
        input,
        el("label", { for: id, text: label }),
        hint ? el("p", { className: "hint", id: id + "-hint", text: hint }) : null
      )
    );
  }
}

export function renderSyncMode() {
  const mode = getPath(state.config, ["sync", "sync_mode"]) || "full";
  for (const input of document.querySelectorAll('input[name="sync-mode"]')) {
    input.checked = input.value === mode;
  }
}
