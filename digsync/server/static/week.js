// The week strip: a 7-day timeline of runs, now and after.

import { isoOffset } from "./dates.js";
import { $, el } from "./dom.js";
import { state } from "./state.js";

const WEEK_MS = 7 * 86400000;
const SVG = "http://www.w3.org/2000/svg";

function svg(tag, attrs) {
  const node = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attrs || {})) node.setAttribute(name, String(value));
  return node;
}

// The runs of a schedule inside [start, end): the listed next runs, continued when
// they repeat at one fixed interval (hourly, daily, every N minutes).
function runsInWindow(sched, start, end) {
  const listed = ((sched && sched.next_runs) || [])
    .map((r) => new Date(r.run_time).getTime())
    .filter((t) => !Number.isNaN(t))
    .sort((a, b) => a - b);
  const times = listed.slice();
  let complete = listed.length === 0;
  if (listed.length >= 3) {
    const gaps = listed.slice(1).map((t, i) => t - listed[i]);
    const gap = gaps[0];
    if (gap > 0 && gaps.every((g) => g === gap)) {
      for (let t = listed[listed.length - 1] + gap; t < end && times.length < 5000; t += gap) {
        times.push(t);
      }
      complete = true;
    }
  }
  if (!complete && listed.length && listed[listed.length - 1] >= end) complete = true;
  return { times: times.filter((t) => t >= start && t < end), complete };
}

export function renderWeek() {
  const body = $("week-strip-body");
  const text = $("week-strip-text");
  const reference = [state.after, state.before].find((x) => x && (x.next_runs || []).length);
  const offset = reference ? isoOffset(reference.next_runs[0].run_time) : 0;
  const now = Date.now();
  // Day columns start at midnight, today, in the schedule's time zone.
  const local = now + offset * 60000;
  const start = local - (local % 86400000) - offset * 60000;
  const end = start + WEEK_MS;
  const dayName = new Intl.DateTimeFormat("en-GB", { weekday: "short", day: "numeric", timeZone: "UTC" });
  const days = [];
  for (let i = 0; i < 7; i++) days.push(dayName.format(new Date(start + offset * 60000 + i * 86400000)));

  const head = el("div", { className: "week-days", "aria-hidden": "true" }, el("span"));
  for (const d of days) head.append(el("span", { text: d }));
  const rows = [head];
  const sentences = [];
  const shortTime = new Intl.DateTimeFormat("en-GB", {
    weekday: "short",
    hour: "2-digit",
    minute: "2-digit",
    hourCycle: "h23",
    timeZone: "UTC",
  });
  for (const [which, label, sched, empty] of [
    ["now", "Now", state.before, "nothing pushed yet"],
    ["after", "After", state.after, "no scheduled runs"],
  ]) {
    const known = which === "now" ? state.before !== undefined : state.after !== null;
    const { times, complete } = runsInWindow(sched, start, end);
    const strip = svg("svg", {
      class: "week-row-svg",
      viewBox: "0 0 700 24",
      preserveAspectRatio: "none",
      "aria-hidden": "true",
      focusable: "false",
      "data-runs": times.length,
      id: "week-" + which,
    });
    strip.append(svg("rect", { x: 0, y: 0, width: 700, height: 24, class: "week-bg" }));
    for (let i = 1; i < 7; i++) {
      strip.append(svg("line", { x1: i * 100, x2: i * 100, y1: 0, y2: 24, class: "week-day-line" }));
    }
    const nowX = ((now - start) / WEEK_MS) * 700;
    strip.append(svg("line", { x1: nowX, x2: nowX, y1: 0, y2: 24, class: "week-now" }));
    for (const t of times) {
      const x = ((t - start) / WEEK_MS) * 700;
      strip.append(svg("rect", { x: x - 1, y: 4, width: 2, height: 16, class: "week-run week-run-" + which }));
    }
    rows.push(el("div", { className: "week-row" }, el("span", { className: "week-label", text: label }), strip));
    let sentence;
    if (!known) sentence = label + ": not known yet.";
    else if (!sched) sentence = label + ": " + empty + ".";
    else {
      const count = times.length + (complete ? "" : " or more");
      sentence = label + ": " + count + " run" + (times.length === 1 ? "" : "s") + " in the next 7 days";
      if (times.length && times.length <= 14) {
        sentence += " (" + times.map((t) => shortTime.format(new Date(t + offset * 60000))).join(", ") + ")";
      } else if (times.length > 14) {
        sentence += ", about " + Math.round(times.length / 7) + " a day";
      }
      sentence += ".";
    }
    sentences.push(sentence);
  }
  body.replaceChildren(...rows);
  text.textContent = "Runs in the next 7 days, from " + days[0] + " to " + days[6] + ". " + sentences.join(" ");
}
