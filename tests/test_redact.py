"""CLI output is redacted: held credentials and anything that reads as an Authorization
value, but not ordinary words."""

from __future__ import annotations

import io

import pytest

from digsync.editor.redact import RedactingStream, credentials, redact


def test_held_credentials_and_authorization_values_are_masked(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TD_API_KEY", "1234/held-key-value")
    monkeypatch.setenv("DIGSYNC_API_TOKEN", "alice:tok-alice-1,bob:tok-bob-2")
    text = (
        "key 1234/held-key-value, tokens tok-alice-1 tok-bob-2, "
        "Authorization: TD1 5555/other, Bearer abc.def-123, Basic dXNlcjpwYXNz"
    )
    assert redact(text) == (
        "key ********, tokens ******** ********, Authorization: TD1 ********, "
        "Bearer ********, Basic ********"
    )
    assert {"1234/held-key-value", "tok-alice-1", "alice:tok-alice-1"} <= credentials()


@pytest.mark.parametrize(
    "text",
    ["Basic authentication is off", "Bearer Authentication", "TD1 header", "Token expired"],
)
def test_ordinary_words_stay(text: str, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("TD_API_KEY", "DIGDAG_AUTHORIZATION", "DIGSYNC_API_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    assert redact(text) == text


def test_the_stream_redacts_what_is_written_and_delegates_the_rest(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TD_API_KEY", "1234/held-key-value")
    raw = io.StringIO()
    stream = RedactingStream(raw)
    print("error: 403 echoing 1234/held-key-value", file=stream)
    assert raw.getvalue() == "error: 403 echoing ********\n"
    assert stream.isatty() is False and stream.getvalue() == raw.getvalue()
