// The schedule now and after the draft: its description and its next runs.

import { relative, runFormatter } from "./dates.js";
import { $, el } from "./dom.js";
import { state } from "./state.js";
import { renderWeek } from "./week.js";

// The draft is invalid: only "after" is unknown. What runs now stays as it was.
export function clearAfter() {
  state.after = null;
  $("schedule-after-description").textContent = "";
  $("schedule-after-runs").replaceChildren();
  renderBefore();
  renderWeek();
}

export function renderSchedulePreview(sched) {
  state.before = sched.before || null;
  state.after = sched.after || null;
  renderRuns("after", state.after, "No schedule: manual runs only.");
  renderBefore();
  renderWeek();
}

// "Now" is the last schedule the server was known to run: from the last good preview,
// never emptied by a draft the server cannot preview.
function renderBefore() {
  if (state.before === undefined) return; // not known yet
  renderRuns("before", state.before, "Nothing pushed yet.");
}

function renderRuns(which, sched, empty) {
  const description = $("schedule-" + which + "-description");
  const list = $("schedule-" + which + "-runs");
  list.replaceChildren();
  if (!sched) {
    description.textContent = empty;
    return;
  }
  description.textContent = sched.description || empty;
  const format = runFormatter(sched.timezone);
  const now = Date.now();
  for (const run of sched.next_runs || []) {
    const at = new Date(run.run_time);
    const session = new Date(run.session_time);
    const li = el(
      "li",
      { className: "run" },
      el("time", { className: "run-when", datetime: run.run_time, text: format(at, run.run_time) }),
      el("span", { className: "run-rel", text: " · " + relative(at.getTime() - now) })
    );
    if (!Number.isNaN(session.getTime())) {
      li.append(
        el(
          "span",
          { className: "session" },
          "session " + format(session, run.session_time)
        )
      );
    }
    list.append(li);
  }
}
