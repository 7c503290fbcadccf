// The history card (GET /history): the revisions table, and rolling back to one of them
// (the confirmation dialog, then POST /rollback); the audit log is drawn by audit.js.

import { withoutShellHint } from "./advice.js";
import { announce } from "./announce.js";
import { api, errorText } from "./api.js";
import { renderAudit } from "./audit.js";
import { formatTime } from "./dates.js";
import { $, code, el, hiddenText } from "./dom.js";
import { loadConfig } from "./load.js";
import { schedulePreview } from "./preview.js";
import { showResult } from "./result.js";
import { state } from "./state.js";
import { refreshStatus } from "./status.js";
import { hasToken } from "./token.js";
import { needToken } from "./token-panel.js";

export async function refreshHistory() {
  const r = await api("GET", "/history");
  if (!r.ok || !r.data) {
    const text = "⚠ History unavailable: " + errorText(r.data);
    $("revisions-body").replaceChildren(el("p", { text }));
    $("audit-body").replaceChildren();
    return;
  }
  renderRevisions(r.data.revisions || [], r.data.project);
  renderAudit(r.data.audit || []);
}

function renderRevisions(revisions, project) {
  const body = $("revisions-body");
  if (!revisions.length) {
    body.replaceChildren(el("p", { className: "muted", text: "No revisions yet." }));
    return;
  }
  const head = el(
    "tr",
    {},
    ...["Revision", "Created", "By", "Action", "Result", ""].map((t) => el("th", { scope: "col", text: t }))
  );
  head.lastChild.append(hiddenText("Actions"));
  const rows = revisions.map((rev, i) => {
    let action;
    if (rev.current) {
      action = el("span", { className: "badge", text: "Current" });
    } else {
      const button = (id, dataKey, label, restoreConfig) => {
        const b = el(
          "button",
          { type: "button", className: "button button-small", id, [dataKey]: rev.revision },
          label,
          hiddenText(" to " + rev.revision)
        );
        b.addEventListener("click", () => confirmRollback(rev.revision, project, b, restoreConfig));
        return b;
      };
      action = button("rollback-" + i, "data-revision", "Roll back", false);
      const restore = button(
        "rollback-restore-" + i,
        "data-restore-revision",
        "Roll back and restore config.yaml",
        true
      );
      action = el("div", { className: "row-actions" }, action, restore);
    }
    return el(
      "tr",
      { className: rev.current ? "is-current" : null },
      el("td", { "data-label": "Revision" }, code(rev.revision || "")),
      el(
        "td",
        { "data-label": "Created" },
        el("time", { datetime: rev.created_at || "", text: formatTime(rev.created_at) })
      ),
      el("td", { "data-label": "By", text: rev.who || "" }),
      el("td", { "data-label": "Action", text: rev.action || "" }),
      el("td", { "data-label": "Result", text: rev.result || "" }),
      el("td", { "data-label": "" }, action)
    );
  });
  const table = el(
    "table",
    { className: "table", id: "revisions-table" },
    el("caption", {
      className: "visually-hidden",
      text: "Revisions of " + (project || "the project"),
    }),
    el("thead", {}, head),
    el("tbody", {}, ...rows)
  );
  const scroll = { className: "table-scroll", tabindex: "0", role: "region", "aria-label": "Revisions" };
  body.replaceChildren(el("div", scroll, table));
}

function confirmRollback(revision, project, opener, restore) {
  const dialog = $("confirm-dialog");
  $("confirm-heading").textContent =
    (restore ? "Roll back to " + revision + " and restore config.yaml" : "Roll back to " + revision) + "?";
  $("confirm-text").textContent =
    "The server gets a new revision of " +
    (project || "the project") +
    " with the files of " +
    revision +
    (restore
      ? ", and config.yaml is restored to the config that revision was pushed from."
      : ". config.yaml is not changed.");
  $("confirm-ok").textContent = restore ? "Roll back and restore" : "Roll back";
  state.confirmAction = () => rollback(revision, restore);
  state.confirmOpener = opener;
  dialog.returnValue = "";
  dialog.showModal();
  $("confirm-cancel").focus();
}

async function rollback(revision, restore) {
  announce("Rolling back to " + revision + "…");
  const body = restore ? { revision, restore_config: true } : { revision };
  const r = await api("POST", "/rollback", body);
  const data = r.data || {};
  if (r.ok) {
    // config.yaml may have changed on disk: load it again (and its ETag).
    if (restore) await loadConfig({ quiet: true });
    const body = [
      el(
        "p",
        {},
        "Now running ",
        code(String(data.new_revision || "")),
        " (the files of ",
        code(String(data.to_revision || revision)),
        ", replacing ",
        code(String(data.from_revision || "")),
        ")."
      ),
    ];
    const restored = data.config_restored !== undefined ? data.config_restored : data.restored_config;
    if (restore && restored === true) {
      body.push(el("p", { text: "config.yaml was restored to the config of that revision and reloaded." }));
    } else if (restore && restored === false) {
      body.push(el("p", { text: "config.yaml could not be restored: no copy of that revision's config is kept." }));
    } else if (restore) {
      body.push(el("p", { text: "config.yaml was loaded again from the server." }));
    }
    const advice = withoutShellHint(data.advice);
    if (advice && !(restore && restored === true)) {
      body.push(el("p", { className: "muted", text: advice }));
    }
    if (!restore) {
      body.push(
        el("p", { className: "muted", text: "To keep it, use “Roll back and restore config.yaml” in the history." })
      );
    }
    showResult("success", restore ? "Rolled back and restored config.yaml" : "Rolled back", body, true);
    announce("Rolled back to " + revision + ".");
  } else if (r.status === 401) {
    needToken(() => rollback(revision, restore), hasToken());
    return;
  } else {
    showResult(
      "error",
      "Rollback failed",
      [
        el("p", { text: errorText(data) }),
        data.details ? el("pre", { className: "details", text: data.details }) : null,
      ],
      true
    );
  }
  refreshStatus();
  refreshHistory();
  schedulePreview(0);
}

export function bindConfirmDialog() {
  const dialog = $("confirm-dialog");
  dialog.addEventListener("close", () => {
    const action = state.confirmAction;
    state.confirmAction = null;
    if (dialog.returnValue === "confirm" && action) {
      action();
    } else if (state.confirmOpener && state.confirmOpener.isConnected) {
      state.confirmOpener.focus();
    }
  });
}
