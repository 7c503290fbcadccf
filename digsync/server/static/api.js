// The Config API (docs/api.md): one call, and the text of its errors.

import { currentToken } from "./token.js";

const API = "/api/semantic-layer";

export async function api(method, path, body, extraHeaders) {
  const headers = { Accept: "application/json", ...(extraHeaders || {}) };
  const token = currentToken();
  if (token) headers.Authorization = "Bearer " + token;
  const init = { method, headers, cache: "no-store", credentials: "same-origin" };
  if (body !== undefined) {
    headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(API + path, init);
  } catch (err) {
    return {
      ok: false,
      status: 0,
      headers: new Headers(),
      data: {
        error: "Could not reach the digsync server",
        code: "network_error",
        details: String((err && err.message) || err),
      },
    };
  }
  let data = null;
  const text = await response.text();
  if (text) {
    try {
      data = JSON.parse(text);
    } catch (_) {
      data = { error: "The server sent an answer that is not JSON", details: text.slice(0, 300) };
    }
  }
  if (!response.ok && (data === null || typeof data !== "object")) {
    data = { error: response.status + " " + response.statusText, code: "http_error" };
  }
  return { ok: response.ok, status: response.status, headers: response.headers, data };
}

export function errorText(data) {
  if (!data) return "Unknown error";
  if (Array.isArray(data.error)) return data.error.join("; ");
  return String(data.error || "Unknown error");
}
