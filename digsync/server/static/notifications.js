// The notifications: per event, whether to send and the channels (email editable, Slack shown).

import { announce } from "./announce.js";
import { $, el, ensureOption } from "./dom.js";
import { edited } from "./edited.js";
import { formatKeyPath, getPath, setPath } from "./keypath.js";
import { state } from "./state.js";

const EVENTS = [
  { key: "on_error", title: "When a sync fails" },
  { key: "on_sync_complete", title: "When a sync completes" },
];

function channelsOf(event) {
  const channels = getPath(state.config, ["notifications", event, "channels"]);
  return Array.isArray(channels) ? channels : [];
}

export function renderNotifications(focus) {
  state.problemsSignature = null;
  for (const event of EVENTS) renderEvent(event);
  if (focus) {
    const target = $(focus);
    if (target) target.focus();
  }
}

function textField(id, label, value, keyPath, onInput, props) {
  const hintId = props && props.hint ? id + "-hint" : null;
  const input = el("input", {
    type: (props && props.type) || "text",
    id,
    autocomplete: "off",
    spellcheck: "false",
    "data-key-path": keyPath,
    "aria-describedby": hintId,
    placeholder: props && props.placeholder,
  });
  input.value = value;
  input.addEventListener("input", () => onInput(input.value));
  return el(
    "div",
    { className: "field" },
    el("label", { for: id, text: label }),
    input,
    hintId ? el("p", { className: "hint", id: hintId, text: props.hint }) : null
  );
}

function renderEvent(event) {
  const base = ["notifications", event.key];
  const prefix = "notify-" + event.key;
  const channels = channelsOf(event.key);
  const enabled = el("input", {
    type: "checkbox",
    id: prefix + "-enabled",
    "data-key-path": formatKeyPath([...base, "enabled"]),
  });
  enabled.checked = getPath(state.config, [...base, "enabled"]) === true;
  enabled.addEventListener("change", () => {
    setPath(state.config, [...base, "enabled"], enabled.checked);
    edited();
  });
  const group = el(
    "fieldset",
    { className: "subgroup", id: prefix + "-group", "data-key-path": formatKeyPath(base) },
    el("legend", { text: event.title }),
    el(
      "div",
      { className: "field field-check" },
      enabled,
      el("label", { for: prefix + "-enabled", text: "Send notifications" })
    )
  );
  const list = el("div", {
    className: "channels",
    "data-key-path": formatKeyPath([...base, "channels"]),
    id: prefix + "-channels",
  });
  channels.forEach((ch, i) => list.append(renderChannel(event, ch, i)));
  if (!channels.length) list.append(el("p", { className: "muted", text: "No channels yet." }));
  group.append(list);
  const add = (type, label) => {
    const button = el("button", {
      type: "button",
      className: "button button-small",
      id: prefix + "-add-" + type,
      text: label,
    });
    button.addEventListener("click", () => {
      const current = channelsOf(event.key);
      current.push({ type, recipients: [] });
      setPath(state.config, [...base, "channels"], current);
      renderNotifications(prefix + "-" + (current.length - 1) + "-recipients");
      announce("Added channel " + current.length + ".");
      edited();
    });
    return button;
  };
  // Slack webhooks are set in config.yaml on the server: the API cannot add one.
  group.append(el("div", { className: "button-row" }, add("email", "Add an email channel")));
  $(prefix).replaceChildren(group);
}

function renderChannel(event, ch, i) {
  const base = ["notifications", event.key, "channels", i];
  const path = formatKeyPath(base);
  const id = "notify-" + event.key + "-" + i;
  const type = ch && ch.type === "email" ? "email" : ch && ch.type === "slack" ? "slack" : ch && ch.type;
  const box = el(
    "fieldset",
    { className: "channel", id: id + "-group", "data-key-path": path },
    el("legend", { text: "Channel " + (i + 1) })
  );

  // A Slack channel is shown, not edited: its webhook is set in config.yaml on the server.
  const typeSelect = el(
    "select",
    { id: id + "-type", "data-key-path": formatKeyPath([...base, "type"]) },
    el("option", { value: type === "slack" ? "slack" : "email", text: type === "slack" ? "Slack" : "Email" })
  );
  if (type !== "slack" && type !== "email") ensureOption(typeSelect, String(type));
  typeSelect.value = String(type);
  typeSelect.disabled = true;
  box.append(
    el("div", { className: "field" }, el("label", { for: id + "-type", text: "Type" }), typeSelect)
  );

  if (type === "slack") {
    box.append(slackSummary(ch, id));
    return box;
  }
  if (type === "email") box.append(...emailFields(ch, base, id));

  const remove = el(
    "button",
    { type: "button", className: "button button-small button-quiet", id: id + "-remove" },
    "Remove channel " + (i + 1)
  );
  remove.addEventListener("click", () => {
    channelsOf(event.key).splice(i, 1);
    renderNotifications("notify-" + event.key + "-add-email");
    announce("Removed channel " + (i + 1) + ".");
    edited();
  });
  box.append(el("div", { className: "button-row" }, remove));
  return box;
}

function slackSummary(ch, id) {
  const where =
    typeof ch.secret === "string" && ch.channel === undefined
      ? "Posts to the webhook in the project secret " + ch.secret + "."
      : "Posts to a webhook URL that is stored on the server and never shown.";
  return el(
    "p",
    { className: "hint", id: id + "-webhook" },
    where + " Slack channels are set in config.yaml on the server, not here."
  );
}

function emailFields(ch, base, id) {
  const recipients = Array.isArray(ch.recipients) ? ch.recipients.join(", ") : "";
  const to = textField(
    id + "-recipients",
    "Recipients",
    recipients,
    formatKeyPath([...base, "recipients"]),
    (value) => {
      ch.recipients = value.split(/[\s,;]+/).filter(Boolean);
      edited();
    },
    { hint: "Email addresses, separated by commas." }
  );
  const subject = textField(
    id + "-subject",
    "Subject",
    typeof ch.subject === "string" ? ch.subject : "",
    formatKeyPath([...base, "subject"]),
    (value) => {
      if (value === "") delete ch.subject;
      else ch.subject = value;
      edited();
    },
    { hint: "Optional. Digdag variables such as ${session_time} may be used." }
  );
  return [to, subject];
}
