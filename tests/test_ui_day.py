"""The web UI's everyday use (issue #14): Enter never pushes, the result shows where the
user is, "now" stays visible, runs read as dates, nothing scrolls sideways, one control
for manual, config changes as YAML lines, choices from /openapi.json, and the rollback
UI (rolled-back status, restore config.yaml, a save that would undo a rollback).

Real headless Chromium on the real server and the fake Digdag (tests/test_ui_browser.py's
fixtures); what the API does not give yet is answered by page.route.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import BrowserContext, Page, Route, expect

from tests.fake_digdag import FakeDigdag
from tests.server_fixtures import API, CONFIG, PROJECT, config_data
from tests.test_ui_browser import Ui, start

pytestmark = pytest.mark.browser  # headless Chromium: left out of the default run


@pytest.fixture
def ui(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    browser: BrowserContext,
    fake: FakeDigdag,
) -> Iterator[Ui]:
    yield from start(tmp_path, monkeypatch, browser, fake)


WIDTHS = [1280, 375]
SHELL_CP = re.compile(r"\bcp\s+/")  # the shell hint the API's advice ends with
DAY = r"(Mon|Tue|Wed|Thu|Fri|Sat|Sun) \d{1,2} (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)"


def sized(ui: Ui, width: int) -> Page:
    ui.page.set_viewport_size({"width": width, "height": 800})
    return ui.open()


def shot(page: Page, path: Path) -> None:
    page.screenshot(path=path, full_page=False)
    assert path.stat().st_size > 0


def push_first(ui: Ui, page: Page) -> str:
    """Save a change so the server runs a revision (daily at 03:00 UTC); its name."""
    page.check("#sync-mode-full")
    page.click("#save-button")
    ui.saved_result()
    return ui.fake.revisions(PROJECT)[-1].name


def in_viewport(page: Page, selector: str) -> bool:
    return bool(
        page.evaluate(
            """(sel) => { const r = document.querySelector(sel).getBoundingClientRect();
                 return r.top >= 0 && r.bottom <= innerHeight && r.height > 0; }""",
            selector,
        )
    )


def click_where_it_is(page: Page, selector: str) -> None:
    """Click as a person does: where it is on screen (locator.click would scroll a sticky
    element to its place in the flow first)."""
    box = page.locator(selector).bounding_box()
    assert box is not None
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)


def no_sideways_scroll(page: Page) -> None:
    sizes = page.evaluate("[document.documentElement.scrollWidth, innerWidth]")
    assert sizes[0] <= sizes[1], f"the page scrolls sideways: {sizes}"


# --- 8: Enter never pushes ---------------------------------------------------------------


def test_enter_in_a_text_field_does_not_save_or_push(ui: Ui) -> None:
    page = ui.open()
    before = ui.config.read_bytes()
    zone = page.locator("#schedule-timezone")
    zone.fill("Asia/Tokyo")
    zone.press("Enter")
    expect(page.locator("#schedule-after-description")).to_contain_text("Asia/Tokyo")
    page.wait_for_timeout(500)  # a save Enter started would have answered by now
    assert ui.config.read_bytes() == before
    assert ui.pushed_digs() == []
    expect(page.locator("#result")).to_be_hidden()
    expect(page.locator("#dirty-note")).to_have_text("Unsaved changes")
    expect(page.locator("#save-button")).to_have_attribute("type", "button")


# --- 9: the result where the user is -----------------------------------------------------


@pytest.mark.parametrize("width", WIDTHS)
def test_the_save_result_is_in_view_and_has_the_focus(ui: Ui, width: int, tmp_path: Path) -> None:
    page = sized(ui, width)
    bar = page.locator("#action-bar")
    assert bar.evaluate("n => getComputedStyle(n).position") == "sticky"
    for button in ("#preview-button", "#save-button"):
        expect(bar.locator(button)).to_have_count(1)
    expect(bar.locator("#result")).to_have_count(1)
    # edit the first field: the bar (and its buttons) is in view at the top of the page too
    page.select_option("#schedule-frequency", "hourly")
    assert in_viewport(page, "#save-button")
    click_where_it_is(page, "#save-button")
    ui.saved_result()
    expect(page.locator("#result")).to_be_focused()
    assert page.evaluate("document.activeElement.id") == "result"
    assert page.locator("#result").get_attribute("tabindex") == "-1"
    assert in_viewport(page, "#result")
    assert page.evaluate("scrollY") < 200  # the page did not jump away from the form
    shot(page, tmp_path / f"saved-{width}.png")
    # far down the page (the history), the bar and its result are still on screen
    page.locator("#history-panel").scroll_into_view_if_needed()
    assert in_viewport(page, "#save-button")
    assert in_viewport(page, "#result-heading")


# --- 10: what runs now stays visible ---------------------------------------------------


def test_now_stays_visible_while_the_draft_is_invalid(ui: Ui) -> None:
    ui.watch.expect_http(f"{API}/preview", 400)
    page = ui.open()
    page.select_option("#schedule-frequency", "hourly")
    page.click("#save-button")
    ui.saved_result()
    now = page.locator("#schedule-before-description")
    expect(now).to_have_text("every hour at :00 (UTC)")
    page.select_option("#schedule-frequency", "custom")
    page.fill("#schedule-cron", "61 * * * *")
    expect(page.locator("#schedule-cron")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#schedule-after-description")).to_be_empty()
    expect(now).to_have_text("every hour at :00 (UTC)")
    expect(page.locator("#schedule-before-runs li")).to_have_count(5)
    expect(page.locator("#week-strip-text")).to_contain_text("Now: ")


# --- 11: runs as a person reads them, and the week strip ---------------------------------


@pytest.mark.parametrize("width", WIDTHS)
def test_next_runs_read_as_dates_in_the_schedules_zone(ui: Ui, width: int, tmp_path: Path) -> None:
    page = sized(ui, width)
    page.fill("#schedule-timezone", "Asia/Tokyo")
    after = page.locator("#schedule-after-description")
    expect(after).to_contain_text("Asia/Tokyo")
    runs = page.locator("#schedule-after-runs li")
    expect(runs).to_have_count(5)
    whens = page.locator("#schedule-after-runs .run-when")
    expect(whens.first).to_have_text(re.compile(rf"^{DAY} 03:00 GMT\+9$"))
    for text in whens.all_inner_texts():
        assert re.fullmatch(rf"{DAY} 03:00 GMT\+9", text), text
    for text in page.locator("#schedule-after-runs .run-rel").all_inner_texts():
        assert re.fullmatch(r" ?· (now|in \d+ (min|h|d))", text), text
    first = runs.first
    expect(first.locator(".session")).to_contain_text("session ")
    styles = whens.evaluate_all(
        "ns => ns.map(n => [getComputedStyle(n).whiteSpace, n.getClientRects().length])"
    )
    assert all(ws == "nowrap" and rects == 1 for ws, rects in styles), styles
    no_sideways_scroll(page)
    shot(page, tmp_path / f"runs-{width}.png")


def test_the_week_strip_shows_now_and_after(ui: Ui, tmp_path: Path) -> None:
    page = ui.open()
    push_first(ui, page)  # the server runs daily at 03:00 UTC
    now, after = page.locator("#week-now"), page.locator("#week-after")
    expect(now).to_have_attribute("data-runs", re.compile(r"^[67]$"))
    page.select_option("#schedule-frequency", "hourly")
    expect(page.locator("#schedule-after-description")).to_have_text("every hour at :00 (UTC)")
    expect(after).to_have_attribute("data-runs", re.compile(r"^1[4-6]\d$"))
    expect(now).to_have_attribute("data-runs", re.compile(r"^[67]$"))
    assert now.locator("rect.week-run").count() == int(now.get_attribute("data-runs") or 0)
    text = page.locator("#week-strip-text")
    expect(text).to_contain_text(re.compile(r"Now: [67] runs in the next 7 days \(\w{3} 03:00"))
    expect(text).to_contain_text(
        re.compile(r"After: 1[4-6]\d runs in the next 7 days, about 2\d a day")
    )
    expect(page.locator("#week-strip")).to_have_attribute("aria-labelledby", "week-strip-caption")
    assert now.get_attribute("aria-hidden") == "true"  # the text says it
    page.locator("#week-strip").scroll_into_view_if_needed()
    shot(page, tmp_path / "week.png")


# --- 12: long text wraps; no sideways scroll; narrow layout ---------------------------------

LONG_PATH = "/srv/" + "/".join(["a-very-long-folder-name-without-breaks"] * 4) + "/config.yaml"
LONG_REVISION = "digsync-" + "0123456789abcdef" * 8


def long_answers(page: Page) -> None:
    """Status and history as a deep checkout with long revision names answers them."""

    def status(route: Route) -> None:
        data = route.fetch().json()
        data["drift"] = [f"{LONG_PATH} changed since the last push; run digsync plan"]
        data["server_revision"] = LONG_REVISION
        route.fulfill(json=data)

    def history(route: Route) -> None:
        data = route.fetch().json()
        row = {
            "revision": LONG_REVISION,
            "created_at": "2025-12-07T03:00:00+00:00",
            "who": "someone-with-a-long-name@example.com",
            "action": "push",
            "config_hash": "x" * 64,
            "result": "pushed",
            "current": False,
        }
        data["revisions"] = [*data.get("revisions", []), row]
        entry = {
            "time": "2025-12-07T03:00:00+00:00",
            "who": "local",
            "action": "save",
            "diff": "",
            "result": "pushed",
            "revision": LONG_REVISION,
            "message": f"pushed from {LONG_PATH}",
        }
        data["audit"] = [entry, *data.get("audit", [])]
        route.fulfill(json=data)

    page.route(f"**{API}/status", status)
    page.route(f"**{API}/history", history)


@pytest.mark.parametrize("width", WIDTHS)
def test_long_paths_and_revisions_wrap_and_nothing_scrolls_sideways(
    ui: Ui, width: int, tmp_path: Path
) -> None:
    long_answers(ui.page)
    page = sized(ui, width)
    expect(page.locator("#revisions-table")).to_contain_text(LONG_REVISION)
    expect(page.locator("#status-body")).to_contain_text(LONG_REVISION)
    expect(page.locator("#audit-list")).to_contain_text(LONG_PATH)
    page.select_option("#schedule-frequency", "custom")
    page.fill("#schedule-cron", "0 */6 * * *")
    page.get_by_role("button", name="Preview changes").click()
    expect(page.locator("#diff-panel")).to_be_visible()
    no_sideways_scroll(page)
    # the history table fits its card: no scrolling inside it either
    fits = page.evaluate(
        """() => { const t = document.querySelector('#revisions-table');
             return [t.scrollWidth, t.parentElement.clientWidth]; }"""
    )
    assert fits[0] <= fits[1], fits
    for selector in ("#revisions-table code", "#status-body code"):
        wrap = page.locator(selector).first.evaluate("n => getComputedStyle(n).overflowWrap")
        assert wrap == "anywhere", selector
    shot(page, tmp_path / f"long-{width}.png")


def test_narrow_the_preview_stands_right_under_the_schedule(ui: Ui, tmp_path: Path) -> None:
    page = sized(ui, 375)
    boxes = page.evaluate(
        """() => ['#schedule-fieldset', '#schedule-preview', '#scope-fieldset']
             .map(s => document.querySelector(s).getBoundingClientRect())
             .map(r => [r.top, r.bottom, r.left, r.width])"""
    )
    (_, schedule_bottom, _, _), (preview_top, preview_bottom, _, _), (scope_top, _, _, _) = boxes
    assert 0 <= preview_top - schedule_bottom < 40, boxes
    assert preview_bottom <= scope_top, boxes
    page.locator("#schedule-preview").scroll_into_view_if_needed()
    shot(page, tmp_path / "narrow-preview.png")
    # wide, it is the column beside the form
    page.set_viewport_size({"width": 1280, "height": 800})
    left = page.evaluate(
        """() => [document.querySelector('#schedule-fieldset').getBoundingClientRect().right,
                  document.querySelector('#schedule-preview').getBoundingClientRect().left]"""
    )
    assert left[1] > left[0], left


# --- 13: one control for manual ------------------------------------------------------------


def test_manual_is_one_choice_and_needs_no_time_zone(ui: Ui) -> None:
    page = ui.open()
    expect(page.locator("#schedule-enabled")).to_have_count(0)
    expect(page.get_by_text("Run on a schedule")).to_have_count(0)
    zone = page.locator("#schedule-timezone")
    expect(zone).to_be_visible()
    page.select_option("#schedule-frequency", "manual")
    expect(zone).to_be_hidden()
    expect(page.locator("#schedule-time")).to_be_hidden()
    expect(page.locator("#schedule-frequency-hint")).to_contain_text("only when started by hand")
    expect(page.locator("#schedule-after-description")).to_contain_text("manual runs only")
    page.select_option("#schedule-frequency", "daily")
    expect(zone).to_be_visible()


@pytest.fixture
def disabled_ui(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    browser: BrowserContext,
    fake: FakeDigdag,
) -> Iterator[Ui]:
    frequency = "    frequency: daily           # how often\n"
    assert frequency in CONFIG
    text = CONFIG.replace(frequency, "    enabled: false\n" + frequency)
    yield from start(tmp_path, monkeypatch, browser, fake, text)


def test_enabled_false_shows_as_manual_and_a_frequency_switches_it_on(disabled_ui: Ui) -> None:
    ui = disabled_ui
    page = ui.open()
    expect(page.locator("#schedule-frequency")).to_have_value("manual")
    expect(page.locator("#schedule-timezone")).to_be_hidden()
    expect(page.locator("#save-button")).to_be_disabled()
    page.select_option("#schedule-frequency", "daily")
    expect(page.locator("#schedule-time")).to_have_value("03:00:00")
    page.click("#save-button")
    ui.saved_result()
    saved = config_data(ui.config)["sync"]["schedule"]
    assert saved == {"frequency": "daily", "time": "03:00:00", "timezone": "UTC"}


# --- 14: a config change as YAML lines ---------------------------------------------------------


def test_the_audits_config_change_shows_yaml_key_paths(ui: Ui) -> None:
    page = ui.open()
    page.select_option("#schedule-frequency", "hourly")
    page.click("#save-button")
    ui.saved_result()
    first = page.locator("#audit-list > li").first
    expect(first).to_contain_text("save")
    first.locator("summary", has_text="Config change").click()
    change = first.locator(".yaml-change")
    expect(change).to_be_visible()
    lines = [" ".join(t.split()) for t in change.locator("li").all_inner_texts()]
    assert "sync.schedule.frequency: daily → hourly" in lines, lines
    assert 'sync.schedule.time: "03:00:00" → "00:00"' in lines, lines
    assert '"frequency":' not in change.inner_text()  # no JSON keys
    # adding a database pattern is a new list item
    page.click("#databases-add")
    page.keyboard.type("sales_*")
    page.click("#save-button")
    expect(page.locator("#audit-list > li")).to_have_count(2)
    newest = page.locator("#audit-list > li").first
    newest.locator("summary", has_text="Config change").click()
    lines = [" ".join(t.split()) for t in newest.locator(".yaml-change li").all_inner_texts()]
    assert lines == ["scope.databases[1]: (not set) → sales_*"], lines


# --- 17: choices from the served schema -----------------------------------------------------


def option_values(page: Page) -> list[str]:
    # Playwright types evaluate_all's result as Any: it is whatever the script returns.
    values: list[str] = page.locator("#schedule-frequency option").evaluate_all(
        "ns => ns.map(n => n.value)"
    )
    return values


def test_the_choices_are_the_schemas_enums(ui: Ui) -> None:
    schema = httpx.get(ui.url + "/openapi.json").json()["components"]["schemas"]["Config"]
    sync = schema["properties"]["sync"]["properties"]
    page = ui.open()
    assert option_values(page) == sync["schedule"]["properties"]["frequency"]["enum"]
    modes = page.locator("input[name='sync-mode']").evaluate_all("ns => ns.map(n => n.value)")
    assert modes == sync["sync_mode"]["enum"]


def test_the_choices_follow_the_served_schema_not_the_page(ui: Ui) -> None:
    """A frequency the schema drops is no option; one it adds is (under its own name)."""

    def trimmed(route: Route) -> None:
        doc = route.fetch().json()
        config = doc["components"]["schemas"]["Config"]
        frequency = config["properties"]["sync"]["properties"]["schedule"]["properties"]
        frequency["frequency"]["enum"] = ["daily", "weekly", "fortnightly"]
        route.fulfill(body=json.dumps(doc), content_type="application/json")

    ui.page.route("**/openapi.json", trimmed)
    page = ui.open()
    assert option_values(page) == ["daily", "weekly", "fortnightly"]
    expect(page.locator("#schedule-frequency option[value='fortnightly']")).to_have_text(
        "fortnightly"
    )


# --- 4, 6, 7: rollback -------------------------------------------------------------------------


def rolled_back_status(page: Page, rolled: dict[str, Any]) -> None:
    def status(route: Route) -> None:
        data = route.fetch().json()
        data["rolled_back"] = rolled
        data["in_sync"] = False
        data["drift"] = [
            "/x/config.yaml changed since the last push (2025-12-07T03:00:00Z); run digsync plan"
        ]
        route.fulfill(json=data)

    page.route(f"**{API}/status", status)


def test_a_rolled_back_server_is_named_and_saving_warns_and_asks(ui: Ui) -> None:
    page = ui.page
    rolled = {"to": "digsync-old", "from": "digsync-new", "revision": "digsync-rb"}
    rolled_back_status(page, rolled)
    ui.watch.expect_http(f"{API}/config", 409)
    posts: list[str] = []

    def config(route: Route) -> None:
        if route.request.method != "POST":
            route.continue_()
            return
        posts.append(route.request.url)
        if "confirm_undo_rollback=true" in route.request.url:
            route.continue_()
        else:
            route.fulfill(
                status=409,
                json={"error": "saving would undo the rollback", "code": "undoes_rollback"},
            )

    page.route(re.compile(r".*/api/semantic-layer/config(\?.*)?$"), config)
    ui.open()
    note = page.locator("#rolled-back-note")
    expect(note).to_have_text(
        "The server runs earlier revision digsync-old (rolled back from digsync-new); "
        "config.yaml is ahead of it."
    )
    expect(page.locator("#status-body")).not_to_contain_text("changed since the last push")
    warning = page.locator("#undo-warning")
    expect(warning).to_be_visible()
    expect(warning).to_contain_text("undoes the rollback")
    save = page.locator("#save-button")
    assert "undo-warning" in (save.get_attribute("aria-describedby") or "")

    # 7: nothing changed, nothing to save
    expect(save).to_be_disabled()
    page.select_option("#schedule-frequency", "hourly")
    expect(save).to_be_enabled()
    page.select_option("#schedule-frequency", "daily")
    expect(save).to_be_disabled()
    page.select_option("#schedule-frequency", "hourly")

    save.click()
    expect(page.locator("#result")).to_be_focused()
    expect(page.locator("#result-heading")).to_contain_text("would undo the rollback")
    assert ui.pushed_digs() == []
    assert config_data(ui.config)["sync"]["schedule"]["frequency"] == "daily"
    page.get_by_role("button", name="Save and undo the rollback").click()
    ui.saved_result()
    assert len(posts) == 2 and "confirm_undo_rollback=true" in posts[1]
    assert "confirm_undo_rollback" not in posts[0]
    assert config_data(ui.config)["sync"]["schedule"]["frequency"] == "hourly"


def test_roll_back_and_restore_sends_restore_config_and_shows_no_shell_command(ui: Ui) -> None:
    page = ui.open()
    page.select_option("#schedule-frequency", "hourly")
    page.click("#save-button")
    ui.saved_result()
    hourly = ui.fake.revisions(PROJECT)[-1].name
    page.select_option("#schedule-frequency", "weekly")
    page.click("#save-button")
    ui.saved_again(hourly)

    # the plain rollback (the real API): its advice's `cp ...` is not shown
    page.click(f"button[data-revision='{hourly}']")
    page.click("#confirm-ok")
    expect(page.locator("#result-heading")).to_have_text("✓ Rolled back")
    expect(page.locator("#result")).not_to_contain_text(SHELL_CP)
    expect(page.locator("#audit-list")).not_to_contain_text(SHELL_CP)

    bodies: list[Any] = []

    def rollback(route: Route) -> None:
        bodies.append(route.request.post_data_json)
        route.fulfill(
            json={
                "success": True,
                "new_revision": "digsync-restored",
                "to_revision": hourly,
                "from_revision": "digsync-x",
                "advice": "config.yaml was not changed. To keep the rollback, restore the "
                "config it was pushed from: cp /state/configs/abc.yaml /x/config.yaml",
                "config_restored": True,
            }
        )

    page.route(f"**{API}/rollback", rollback)
    restore = page.locator(f"button[data-restore-revision='{hourly}']")
    expect(restore).to_contain_text("Roll back and restore config.yaml")
    restore.click()
    expect(page.locator("#confirm-heading")).to_contain_text("restore config.yaml")
    page.click("#confirm-ok")
    expect(page.locator("#result-heading")).to_have_text("✓ Rolled back and restored config.yaml")
    assert bodies == [{"revision": hourly, "restore_config": True}]
    expect(page.locator("#result")).not_to_contain_text(SHELL_CP)
    expect(page.locator("#result")).to_be_focused()
