// The API token: kept in sessionStorage (this tab only), or in memory when storage is off.

const TOKEN_KEY = "digsync.apiToken";

let memoryToken = ""; // the token when sessionStorage is unavailable

function readToken() {
  try {
    return window.sessionStorage.getItem(TOKEN_KEY) || "";
  } catch (_) {
    return "";
  }
}

export function writeToken(token) {
  try {
    if (token) window.sessionStorage.setItem(TOKEN_KEY, token);
    else window.sessionStorage.removeItem(TOKEN_KEY);
  } catch (_) {
    // Storage can be off; the token then lasts until the page is reloaded.
  }
  memoryToken = token;
}

// The token to send: the stored one, else the one kept in memory.
export function currentToken() {
  return readToken() || memoryToken;
}

// A token was given already: a 401 now means the server refused it.
export function hasToken() {
  return Boolean(currentToken());
}
