"""No credential in a message that leaves the controller: known values and credential shapes are masked."""

from __future__ import annotations

import base64
import io
import json
import logging
import urllib.parse
from collections.abc import Iterator

import pytest
from pythonjsonlogger.json import JsonFormatter

from controller.clients.redaction import LOG_FILTER, install_log_filter, redact, register

PAT = "dapi" + "5e7a" * 8
SECRET = 's3cr3t/4+"unit" tests'


def test_a_registered_value_is_masked_in_every_form_an_error_quotes_it_in() -> None:
    register(f"  {SECRET}\n")  # as `kubectl create secret --from-file` leaves it
    forms = {SECRET, urllib.parse.quote_plus(SECRET), json.dumps(SECRET)[1:-1]}
    quoted = [
        f"Invalid header value b'Bearer {SECRET}\\n'",  # requests' error for a value with a newline
        f"form body: grant_type=x&scope={urllib.parse.quote_plus(SECRET)}",
        json.dumps({"echo": SECRET}),
        f"prefix{SECRET}suffix",
    ]
    for text in quoted:
        assert not any(form in redact(text) for form in forms), text
    assert redact(f"refused {SECRET}") == "refused ***"


def test_values_too_short_to_be_told_from_words_are_not_registered() -> None:
    register("abc", "", None)
    assert redact("a basic abc message") == "a basic abc message"


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        (f"Invalid header value b'Bearer {PAT}\\n'", PAT),
        (f"token {PAT} was revoked", PAT),
        ("Authorization: Bearer emu-oauth-9f8e7d6c5b4a", "emu-oauth-9f8e7d6c5b4a"),
        (f"Authorization: Basic {base64.b64encode(b'alice:pa55word').decode()}", "YWxpY2U6cGE1NXdvcmQ="),
        ("cannot reach https://alice:pa55word@mlflow.example:5000/api", "pa55word"),
        ("sent grant_type=client_credentials&client_secret=dose-not-shaped-0", "dose-not-shaped-0"),
        ('answered {"access_token": "opaque-token-value", "expires_in": 3600}', "opaque-token-value"),
        ("jwt eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJzcCJ9.c2lnbmF0dXJl expired", "eyJzdWIiOiJzcCJ9"),
    ],
)
def test_credential_shapes_are_masked_without_being_registered(text: str, secret: str) -> None:
    assert secret not in redact(text)
    assert "***" in redact(text)


@pytest.mark.parametrize(
    "text",
    [
        "Invalid access token. Config: host=http://127.0.0.1:36321, token=***, auth_type=pat, "
        "http_timeout_seconds=15.0",
        "MLflow is unreachable: HTTPConnectionPool(host='127.0.0.1', port=5000): Max retries exceeded",
        "Basic authentication failed; Bearer Authentication is required",
        "Secret t-1/dbx-credentials does not exist",
        "connected as emulator-user@example.com",
    ],
)
def test_ordinary_messages_are_left_as_they_are(text: str) -> None:
    assert redact(text) == text


@pytest.fixture
def log_output() -> Iterator[tuple[logging.Logger, io.StringIO, io.StringIO]]:
    """A parent logger with a text and a JSON handler; the test logs on its child, as kopf's loggers do."""
    parent = logging.getLogger("redaction-test")
    parent.propagate = False
    parent.setLevel(logging.INFO)
    text, structured = io.StringIO(), io.StringIO()
    handlers = [logging.StreamHandler(text), logging.StreamHandler(structured)]
    handlers[1].setFormatter(JsonFormatter())
    for handler in handlers:
        parent.addHandler(handler)
    yield logging.getLogger("redaction-test.child"), text, structured
    for handler in handlers:
        parent.removeHandler(handler)
    for logger in [logging.getLogger(), *logging.Logger.manager.loggerDict.values()]:
        for handler in getattr(logger, "handlers", ()):
            handler.removeFilter(LOG_FILTER)


def test_the_log_filter_redacts_messages_arguments_and_exceptions_in_text_and_json(
    log_output: tuple[logging.Logger, io.StringIO, io.StringIO],
) -> None:
    logger, text, structured = log_output
    install_log_filter()
    register(SECRET)
    logger.info("not ready: %s", f"refused {SECRET}")
    try:
        raise ValueError(f"Invalid header value b'Bearer {PAT}\\n'")
    except ValueError:
        logger.exception("check failed")
    for output in (text.getvalue(), structured.getvalue()):
        assert "not ready: refused ***" in output
        assert "ValueError: Invalid header value b'Bearer ***" in output
        assert SECRET not in output
        assert PAT not in output
    assert all(json.loads(line) for line in structured.getvalue().splitlines())
