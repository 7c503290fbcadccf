// The live region: short messages for screen readers.

import { $ } from "./dom.js";

export function announce(text) {
  const live = $("announcer");
  live.textContent = "";
  // A new text node in a later task is announced even when the text repeats.
  window.setTimeout(() => {
    live.textContent = text;
  }, 30);
}
