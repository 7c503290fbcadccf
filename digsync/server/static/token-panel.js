// The token panel: ask for a token when a write is answered 401, then repeat the write.

import { announce } from "./announce.js";
import { $ } from "./dom.js";
import { state } from "./state.js";
import { writeToken } from "./token.js";

// A write answered 401: ask for the token, then repeat the write.
export function needToken(retry, rejected) {
  state.afterToken = retry;
  const panel = $("token-panel");
  panel.hidden = false;
  const err = $("token-error");
  const input = $("api-token");
  if (rejected) {
    err.textContent = "Error: the server did not accept this token.";
    err.hidden = false;
    input.setAttribute("aria-invalid", "true");
  } else {
    err.hidden = true;
    input.removeAttribute("aria-invalid");
  }
  announce("An API token is needed to make changes.");
  input.focus();
}

export function bindTokenPanel() {
  $("token-form").addEventListener("submit", (e) => {
    e.preventDefault();
    const token = $("api-token").value.trim();
    if (!token) {
      needToken(state.afterToken, false);
      return;
    }
    writeToken(token);
    $("api-token").value = "";
    $("token-panel").hidden = true;
    announce("Token saved for this tab.");
    const retry = state.afterToken;
    state.afterToken = null;
    if (retry) retry();
  });
  $("token-forget").addEventListener("click", () => {
    writeToken("");
    $("api-token").value = "";
    announce("Token forgotten.");
  });
}
