"""The web UI end to end: real headless Chromium (Debian's, through Playwright) on the
real digsync server, pushing to the fake Digdag server.

One browser per module, a fresh page, server and Digdag per test. Every test also
fails on a console error, an uncaught page error or a CSP violation it did not expect.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import BrowserContext, Page, Request, Route, expect

from digsync.schedule.engine import parse_schedule
from digsync.schedule.words import describe
from tests.fake_digdag import FakeDigdag
from tests.server_fixtures import (
    API,
    CONFIG,
    PROJECT,
    WEBHOOK,
    config_data,
    live_server,
    prepare_workdir,
)
from tests.ui_helpers import PageWatch

pytestmark = pytest.mark.browser  # headless Chromium: left out of the default run

DIG = f"{PROJECT}.dig"
TOKEN = "ui-test-token"
expect.set_options(timeout=15_000)


class Ui:
    """One test's world: the page, its URL, the config file and the fake Digdag."""

    def __init__(self, page: Page, watch: PageWatch, url: str, config: Path, fake: FakeDigdag):
        self.page = page
        self.watch = watch
        self.url = url
        self.config = config
        self.fake = fake

    def open(self) -> Page:
        """Load the page and wait until the config and the first preview are shown."""
        self.page.goto(self.url + "/")
        expect(self.page.locator("#config-form")).to_have_attribute("aria-busy", "false")
        expect(self.page.locator("#schedule-after-description")).not_to_be_empty()
        return self.page

    def pushed_digs(self) -> list[str]:
        """The .dig of every revision the fake Digdag received, oldest first."""
        return [r.files[DIG].decode("utf-8") for r in self.fake.revisions(PROJECT)]

    def saved_result(self) -> None:
        expect(self.page.locator("#result")).to_be_visible()
        expect(self.page.locator("#result-heading")).to_have_text("✓ Saved")

    def saved_again(self, previous: str) -> str:
        """Wait until the result names a revision other than `previous`; return it."""
        expect(self.page.locator("#result-body")).not_to_contain_text(previous)
        self.saved_result()
        latest = self.fake.revisions(PROJECT)[-1].name
        assert latest != previous
        expect(self.page.locator("#result-body")).to_contain_text(latest)
        return latest


def start(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    browser: BrowserContext,
    fake: FakeDigdag,
    text: str = CONFIG,
    **server_options: Any,
) -> Iterator[Ui]:
    config = prepare_workdir(tmp_path, monkeypatch, text)
    # Two attempts per push: an injected failure then reaches the UI quickly.
    monkeypatch.setenv("DIGSYNC_RETRY_ATTEMPTS", "2")
    with live_server(config, target="digdag", endpoint=fake.url, **server_options) as url:
        page = browser.new_page()
        watch = PageWatch(page)  # the page names its icon: no stray /favicon.ico 404
        try:
            yield Ui(page, watch, url, config, fake)
            problems = watch.problems()
        finally:
            page.close()
    assert problems == [], "\n".join(problems)


@pytest.fixture
def ui(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    browser: BrowserContext,
    fake: FakeDigdag,
) -> Iterator[Ui]:
    yield from start(tmp_path, monkeypatch, browser, fake)


@pytest.fixture
def token_ui(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    browser: BrowserContext,
    fake: FakeDigdag,
) -> Iterator[Ui]:
    yield from start(tmp_path, monkeypatch, browser, fake, token=f"alice:{TOKEN}")


@pytest.fixture
def email_then_slack_ui(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    browser: BrowserContext,
    fake: FakeDigdag,
) -> Iterator[Ui]:
    slack = f'      - type: slack\n        channel: "{WEBHOOK}"\n'
    email = "      - type: email\n        recipients: [team@example.com]\n"
    assert slack in CONFIG
    yield from start(tmp_path, monkeypatch, browser, fake, CONFIG.replace(slack, email + slack))


def description(block: dict[str, object], tz: str = "UTC") -> str:
    """The plain-language description digsync gives this schedule block."""
    return describe(parse_schedule(block, tz))


# --- the two required journeys -------------------------------------------------------


def test_daily_to_hourly_save_pushes_an_hourly_revision(ui: Ui) -> None:
    page = ui.open()
    original = config_data(ui.config)
    expect(page.locator("#schedule-frequency")).to_have_value("daily")
    page.select_option("#schedule-frequency", "hourly")
    # MM:SS for hourly: "03:00:00" became minute 00, second 00
    expect(page.locator("#schedule-time")).to_have_value("00:00")
    expect(page.locator("#schedule-time-label")).to_contain_text("MM:SS")
    page.click("#save-button")
    ui.saved_result()
    (dig,) = ui.pushed_digs()
    assert 'hourly>: "00:00"' in dig
    revision = ui.fake.revisions(PROJECT)[-1].name
    expect(page.locator("#result-body")).to_contain_text(revision)
    saved = config_data(ui.config)
    assert saved["sync"]["schedule"] == {"frequency": "hourly", "time": "00:00", "timezone": "UTC"}
    # everything else came back as it was, the masked webhook URL included
    original["sync"]["schedule"] = saved["sync"]["schedule"]
    assert saved == original
    assert "# how often" in ui.config.read_text()  # the file keeps its comments
    expect(page.locator("#status-state")).to_have_text("✓ In sync")
    expect(page.locator("#dirty-note")).to_be_empty()


def test_invalid_cron_shows_its_error_next_to_the_cron_field(ui: Ui) -> None:
    ui.watch.expect_http(f"{API}/preview", 400)
    ui.watch.expect_http(f"{API}/config", 400)
    page = ui.open()
    before = ui.config.read_bytes()
    page.select_option("#schedule-frequency", "custom")
    page.fill("#schedule-cron", "61 * * * *")
    page.click("#save-button")
    cron = page.locator("#schedule-cron")
    expect(cron).to_have_attribute("aria-invalid", "true")
    message = "cron>: invalid cron pattern '61 * * * *': minutes '61': value '61' is out of range"
    described_by = (cron.get_attribute("aria-describedby") or "").split()
    errors = [page.locator(f"[id='{i}']") for i in described_by if i.endswith("-error")]
    assert len(errors) == 1
    expect(errors[0]).to_be_visible()
    expect(errors[0]).to_contain_text(message)
    # next to the field: inside the cron field's own group, right below the input
    group = page.locator(".field", has=cron)
    expect(group.locator(".field-error")).to_contain_text(message)
    # the summary links to the field, and the link moves the focus there
    summary = page.locator("#error-summary")
    expect(summary).to_be_focused()
    link = summary.get_by_role("link", name=re.compile("Cron expression"))
    expect(link).to_contain_text(message)
    link.press("Enter")
    expect(cron).to_be_focused()
    # nothing was written or pushed
    assert ui.config.read_bytes() == before
    assert ui.pushed_digs() == []
    # fixing it clears the error as the live preview answers
    cron.fill("0 */6 * * *")
    expect(cron).not_to_have_attribute("aria-invalid", "true")
    expect(errors[0]).to_be_hidden()
    expect(page.locator("#schedule-after-description")).to_have_text(
        description({"cron>": "0 */6 * * *"})
    )


# --- schedule preview ------------------------------------------------------------------


def test_live_description_and_next_runs_follow_the_frequency(ui: Ui) -> None:
    page = ui.open()
    after = page.locator("#schedule-after-description")
    expect(after).to_have_text("every day at 03:00 (UTC)")
    expect(page.locator("#schedule-before-description")).to_have_text("Nothing pushed yet.")
    expect(page.locator("#schedule-after-runs li")).to_have_count(5)
    # only the fields the frequency uses are shown
    expect(page.locator("#schedule-day-of-week")).to_be_hidden()
    expect(page.locator("#schedule-cron")).to_be_hidden()

    page.select_option("#schedule-frequency", "weekly")
    expect(page.locator("#schedule-day-of-week")).to_be_visible()
    page.select_option("#schedule-day-of-week", "Friday")
    expect(after).to_have_text(description({"weekly>": "Fri,03:00:00"}))
    runs = page.locator("#schedule-after-runs time")
    expect(runs).to_have_count(5)
    for stamp in runs.evaluate_all("nodes => nodes.map(n => n.getAttribute('datetime'))"):
        run = dt.datetime.fromisoformat(stamp)
        assert (run.strftime("%a %H:%M:%S"), run.utcoffset()) == ("Fri 03:00:00", dt.timedelta(0))

    page.select_option("#schedule-frequency", "interval")
    expect(page.locator("#schedule-time")).to_be_hidden()
    page.fill("#schedule-interval", "15")
    expect(after).to_have_text(description({"minutes_interval>": 15}))

    page.select_option("#schedule-frequency", "monthly")
    page.fill("#schedule-day-of-month", "15")
    page.fill("#schedule-time", "04:30:00")
    page.fill("#schedule-timezone", "Asia/Tokyo")
    expect(after).to_have_text(description({"monthly>": "15,04:30:00"}, "Asia/Tokyo"))
    expect(page.locator("#dirty-note")).to_have_text("Unsaved changes")
    # previews write nothing and push nothing
    assert "Asia/Tokyo" not in ui.config.read_text()
    assert ui.pushed_digs() == []


def test_a_stale_preview_answer_is_ignored(ui: Ui) -> None:
    page = ui.open()
    held: list[Route] = []

    def hold_first(route: Route) -> None:
        if held:
            route.continue_()
        else:
            held.append(route)

    page.route(f"**{API}/preview", hold_first)

    def is_preview(request: Request) -> bool:
        return request.url.endswith(f"{API}/preview")

    with page.expect_request(is_preview):
        page.select_option("#schedule-frequency", "weekly")
    page.select_option("#schedule-frequency", "hourly")
    after = page.locator("#schedule-after-description")
    expect(after).to_have_text("every hour at :00 (UTC)")
    assert len(held) == 1 and '"weekly"' in (held[0].request.post_data or "")
    held[0].continue_()  # the older (weekly) answer arrives last
    expect(page.locator("#schedule-preview")).to_have_attribute("data-dropped", "1")
    expect(after).to_have_text("every hour at :00 (UTC)")


# --- saving: the failure cases -----------------------------------------------------------


def test_saved_but_push_failed_then_retry_pushes(ui: Ui) -> None:
    ui.watch.expect_http(f"{API}/config", 500)
    page = ui.open()
    ui.fake.fail("PUT", "/api/projects", status=503, times=2, message="Digdag is down")
    page.select_option("#schedule-frequency", "hourly")
    page.click("#save-button")
    result = page.locator("#result")
    expect(result).to_be_focused()
    expect(page.locator("#result-heading")).to_have_text(
        "⚠ Config saved but workflow update failed"
    )
    expect(result.locator(".details")).to_contain_text("503")
    expect(result.locator(".details")).to_contain_text("Digdag is down")
    expect(result).to_contain_text("digsync push")
    expect(page.locator("#status-state")).to_have_text("⏳ Push pending")
    # saved, not pushed
    assert config_data(ui.config)["sync"]["schedule"]["frequency"] == "hourly"
    assert ui.pushed_digs() == []
    assert ui.fake.pending_faults == 0  # the fake Digdag is reachable again

    page.get_by_role("button", name="Retry the push").click()
    ui.saved_result()
    (dig,) = ui.pushed_digs()
    assert "hourly>" in dig
    expect(page.locator("#status-state")).to_have_text("✓ In sync")


def test_a_concurrent_change_gets_412_and_offers_a_reload(ui: Ui) -> None:
    ui.watch.expect_http(f"{API}/config", 412)
    page = ui.open()
    # someone else edits config.yaml after the page loaded it
    edited = ui.config.read_text().replace("timezone: UTC", "timezone: Asia/Tokyo")
    ui.config.write_text(edited)
    page.select_option("#schedule-frequency", "hourly")
    page.click("#save-button")
    expect(page.locator("#result")).to_be_focused()
    expect(page.locator("#result-heading")).to_have_text(
        "⚠ config.yaml changed since you loaded it"
    )
    assert ui.config.read_text() == edited  # nothing written
    assert ui.pushed_digs() == []
    page.get_by_role("button", name="Reload the config").click()
    expect(page.locator("#schedule-timezone")).to_have_value("Asia/Tokyo")
    expect(page.locator("#schedule-frequency")).to_have_value("daily")
    expect(page.locator("#result")).to_be_hidden()
    # the reloaded version saves
    page.select_option("#schedule-frequency", "hourly")
    page.click("#save-button")
    ui.saved_result()
    assert config_data(ui.config)["sync"]["schedule"]["timezone"] == "Asia/Tokyo"
    assert "hourly>" in ui.pushed_digs()[-1]


def test_problems_map_to_list_items_and_channel_fields(ui: Ui) -> None:
    ui.watch.expect_http(f"{API}/preview", 400)
    ui.watch.expect_http(f"{API}/config", 400)
    page = ui.open()
    page.click("#databases-add")
    expect(page.locator("#databases-1")).to_be_focused()
    page.keyboard.type("Not A Glob")
    page.click("#notify-on_sync_complete-add-email")
    expect(page.locator("#notify-on_sync_complete-0-recipients")).to_be_focused()
    page.fill("#notify-on_sync_complete-0-recipients", "nobody")
    page.click("#save-button")
    expect(page.locator("#error-summary-heading")).to_have_text("2 problems stop the save")
    for field, text in (
        ("#databases-1", "expected a database glob"),
        ("#notify-on_sync_complete-0-recipients", "expected an email address"),
    ):
        input_ = page.locator(field)
        expect(input_).to_have_attribute("aria-invalid", "true")
        error_id = field.removeprefix("#") + "-error"
        expect(input_).to_have_attribute("aria-describedby", re.compile(rf"\b{error_id}\b"))
        expect(page.locator(f"#{error_id}")).to_contain_text(text)
    expect(page.locator("#databases-0")).not_to_have_attribute("aria-invalid", "true")
    page.click("#databases-1 ~ button")  # Remove
    expect(page.locator("#databases-1")).to_have_count(0)
    page.fill("#notify-on_sync_complete-0-recipients", "data@example.com")
    expect(page.locator("#error-summary")).to_be_hidden()
    page.click("#save-button")
    ui.saved_result()
    saved = config_data(ui.config)
    assert saved["scope"]["databases"] == ["gld_*"]
    assert saved["notifications"]["on_sync_complete"]["channels"] == [
        {"type": "email", "recipients": ["data@example.com"]}
    ]


def test_webhook_url_stays_masked_and_is_kept_on_save(ui: Ui) -> None:
    page = ui.open()
    expect(page.locator("#notify-on_error-0-webhook")).to_contain_text(
        "stored on the server and never shown"
    )
    expect(page.locator("#notify-on_error-0-type")).to_be_disabled()
    assert WEBHOOK not in page.content()
    page.check("#sync-mode-full")
    page.click("#save-button")
    ui.saved_result()
    saved = config_data(ui.config)
    assert saved["sync"]["sync_mode"] == "full"
    assert saved["notifications"]["on_error"]["channels"] == [{"type": "slack", "channel": WEBHOOK}]
    assert ui.fake.secrets(PROJECT) == {"digsync.on_error.slack_0": WEBHOOK}
    assert WEBHOOK not in page.content()


def test_slack_channels_are_shown_not_edited_and_survive_removing_an_email_before_them(
    email_then_slack_ui: Ui,
) -> None:
    """The API cannot add, change or remove a Slack webhook: the page offers none of it.
    An email channel before a Slack one can go, and the webhook stays the event's first."""
    ui = email_then_slack_ui
    page = ui.open()
    expect(page.locator("#notify-on_error-add-slack")).to_have_count(0)
    expect(page.locator("#notify-on_error-1-remove")).to_have_count(0)
    expect(page.locator("#notify-on_error-1-channel")).to_have_count(0)
    page.click("#notify-on_error-0-remove")
    expect(page.locator("#notify-on_error-add-email")).to_be_focused()
    expect(page.locator("#notify-on_error-0-webhook")).to_be_visible()
    page.click("#save-button")
    ui.saved_result()
    channels = config_data(ui.config)["notifications"]["on_error"]["channels"]
    assert channels == [{"type": "slack", "channel": WEBHOOK}]
    assert ui.fake.secrets(PROJECT)["digsync.on_error.slack_0"] == WEBHOOK
    assert WEBHOOK not in page.content()


def test_every_control_has_a_label_and_every_fieldset_a_legend(ui: Ui) -> None:
    ui.watch.expect_http(f"{API}/preview", 400)  # the new, empty fields are invalid
    page = ui.open()
    page.click("#notify-on_sync_complete-add-email")
    page.click("#excludes-add")
    unlabeled = page.evaluate(
        """() => [...document.querySelectorAll("input, select, textarea")]
            .filter((c) => !c.id || !document.querySelector(`label[for="${c.id}"]`))
            .map((c) => c.outerHTML)"""
    )
    assert unlabeled == []
    no_legend = page.evaluate(
        """() => [...document.querySelectorAll("fieldset")]
            .filter((f) => !f.firstElementChild || f.firstElementChild.tagName !== "LEGEND"
                           || !f.firstElementChild.textContent.trim())
            .map((f) => f.id || f.outerHTML.slice(0, 80))"""
    )
    assert no_legend == []
    nameless = page.evaluate(
        """() => [...document.querySelectorAll("button")]
            .filter((b) => !b.textContent.trim()).map((b) => b.outerHTML)"""
    )
    assert nameless == []
    expect(page.locator("#announcer")).to_have_attribute("aria-live", "polite")


# --- history and rollback ----------------------------------------------------------------


def test_history_lists_revisions_and_rollback_repushes_one(ui: Ui) -> None:
    page = ui.open()
    page.select_option("#schedule-frequency", "hourly")
    page.click("#save-button")
    ui.saved_result()
    hourly = ui.fake.revisions(PROJECT)[-1].name
    page.select_option("#schedule-frequency", "weekly")
    page.click("#save-button")
    weekly = ui.saved_again(hourly)
    assert [r.name for r in ui.fake.revisions(PROJECT)] == [hourly, weekly]

    rows = page.locator("#revisions-table tbody tr")
    expect(rows).to_have_count(2)
    current = page.locator("#revisions-table tr.is-current")
    expect(current).to_contain_text(weekly)
    expect(current).to_contain_text("Current")
    expect(page.locator("#audit-list > li")).to_have_count(2)
    rollback = page.locator(f"button[data-revision='{hourly}']")

    # cancelling changes nothing
    rollback.click()
    dialog = page.locator("#confirm-dialog")
    expect(dialog).to_be_visible()
    expect(page.locator("#confirm-cancel")).to_be_focused()
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(rollback).to_be_focused()
    assert len(ui.fake.revisions(PROJECT)) == 2

    rollback.click()
    expect(page.locator("#confirm-heading")).to_have_text(f"Roll back to {hourly}?")
    page.click("#confirm-ok")
    expect(page.locator("#result-heading")).to_have_text("✓ Rolled back")
    expect(page.locator("#result-body")).to_contain_text(hourly)
    revisions = ui.fake.revisions(PROJECT)
    assert len(revisions) == 3
    assert revisions[-1].files[DIG] == revisions[0].files[DIG]
    new = revisions[-1].name
    expect(page.locator("#revisions-table tr.is-current")).to_contain_text(new)
    expect(page.locator("#audit-list > li").first).to_contain_text("rollback")
    # config.yaml is left alone: it still says weekly, so status shows drift
    assert config_data(ui.config)["sync"]["schedule"]["frequency"] == "weekly"
    expect(page.locator("#status-state")).to_have_text("⚠ Drift")


# --- keyboard, token, CSP --------------------------------------------------------------


def tab_to(page: Page, element_id: str, limit: int = 60) -> None:
    """Press Tab until the element has the focus (it must be in the tab order)."""
    for _ in range(limit):
        if page.evaluate("document.activeElement && document.activeElement.id") == element_id:
            return
        page.keyboard.press("Tab")
    raise AssertionError(f"#{element_id} never got the focus with Tab")


def test_keyboard_only_save(ui: Ui) -> None:
    page = ui.open()
    page.locator("body").focus()
    tab_to(page, "schedule-frequency")
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline != "none"  # the focus is visible
    page.keyboard.press("ArrowUp")  # daily -> hourly
    expect(page.locator("#schedule-frequency")).to_have_value("hourly")
    expect(page.locator("#schedule-after-description")).to_have_text("every hour at :00 (UTC)")
    tab_to(page, "save-button")
    page.keyboard.press("Space")
    ui.saved_result()
    assert "hourly>" in ui.pushed_digs()[-1]
    # Enter in a text field does not save: a push needs the button
    first = ui.fake.revisions(PROJECT)[-1].name
    page.locator("#schedule-time").focus()
    page.keyboard.press("Control+A")
    page.keyboard.type("30:00")
    page.keyboard.press("Enter")
    expect(page.locator("#schedule-after-description")).to_have_text("every hour at :30 (UTC)")
    expect(page.locator("#dirty-note")).to_have_text("Unsaved changes")
    assert len(ui.fake.revisions(PROJECT)) == 1
    tab_to(page, "save-button")
    page.keyboard.press("Enter")
    ui.saved_again(first)
    assert 'hourly>: "30:00"' in ui.pushed_digs()[-1]


def test_a_401_asks_for_the_token_and_the_write_goes_through(token_ui: Ui) -> None:
    ui = token_ui
    ui.watch.expect_http(f"{API}/preview", 401)
    ui.page.goto(ui.url + "/")
    page = ui.page
    token = page.locator("#api-token")
    expect(page.locator("#token-panel")).to_be_visible()
    expect(token).to_be_focused()
    token.fill(TOKEN)
    token.press("Enter")
    expect(page.locator("#token-panel")).to_be_hidden()
    expect(page.locator("#schedule-after-description")).to_have_text("every day at 03:00 (UTC)")
    assert page.evaluate("sessionStorage.getItem('digsync.apiToken')") == TOKEN
    page.select_option("#schedule-frequency", "hourly")
    page.click("#save-button")
    ui.saved_result()
    assert "hourly>" in ui.pushed_digs()[-1]
    expect(page.locator("#audit-list > li").first).to_contain_text("alice")


def test_preview_shows_the_dig_diff_with_no_csp_violation(ui: Ui) -> None:
    page = ui.open()
    answer = httpx.get(ui.url + "/")
    assert answer.headers["content-security-policy"].startswith("default-src 'self'")
    page.select_option("#schedule-frequency", "hourly")
    page.click("#save-button")
    ui.saved_result()
    page.select_option("#schedule-frequency", "weekly")
    page.select_option("#schedule-day-of-week", "Tuesday")
    # the time of day used before hourly comes back
    expect(page.locator("#schedule-time")).to_have_value("03:00:00")
    page.get_by_role("button", name="Preview changes").click()
    panel = page.locator("#diff-panel")
    expect(panel).to_be_visible()
    expect(page.locator("#diff-heading")).to_be_focused()
    expect(page.locator("#diff-summary")).to_contain_text("pushes a new revision")
    removed = page.locator("#diff-output del.diff-removed")
    added = page.locator("#diff-output ins.diff-added")
    expect(removed.filter(has_text='hourly>: "00:00"')).to_have_count(1)
    expect(added.filter(has_text='weekly>: "Tue,03:00:00"')).to_have_count(1)
    expect(page.locator("#dig-output")).to_contain_text('weekly>: "Tue,03:00:00"')
    # the diff is text, never markup: the page holds no element the data could have made
    assert page.locator("#diff-output > :not(span, ins, del)").count() == 0
    assert page.evaluate("window.__cspViolations") == []
    # previewing pushed nothing
    assert len(ui.pushed_digs()) == 1


def test_a_project_digsync_did_not_make_is_replaced_only_after_asking(ui: Ui) -> None:
    ui.watch.expect_http(f"{API}/config", 409)
    ui.fake.push_directly(PROJECT, {"theirs.dig": b"+a:\n  echo>: mine\n"}, "hand-made-1")
    page = ui.open()
    page.check("#sync-mode-full")
    page.click("#save-button")
    expect(page.locator("#result-heading")).to_contain_text("the project on the target is not")
    expect(page.locator("#result-body")).to_contain_text("revision 'hand-made-1'")
    assert [r.name for r in ui.fake.revisions(PROJECT)] == ["hand-made-1"]  # not replaced
    assert config_data(ui.config)["sync"]["sync_mode"] == "full"  # but saved
    page.click("#adopt-push")
    ui.saved_result()
    assert ui.fake.revisions(PROJECT)[0].name == "hand-made-1"
    latest = ui.fake.revisions(PROJECT)[-1]
    assert len(ui.fake.revisions(PROJECT)) == 2 and b"sync_mode: full" in latest.files[DIG]
