"""JSON logs: one object per line, with the app and revision being worked on."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator

import pytest

from gitward import logs


@pytest.fixture(autouse=True)
def restore_logging() -> Iterator[None]:
    logger = logging.getLogger("gitward")
    saved = (list(logger.handlers), logger.level, logger.propagate)
    yield
    logger.handlers[:], logger.level, logger.propagate = saved[0], saved[1], saved[2]


def test_json_lines_carry_app_and_revision(capsys: pytest.CaptureFixture[str]) -> None:
    logs.setup(json_format=True, level="info")
    log = logging.getLogger("gitward.test")
    token_app = logs.current_app.set("web")
    token_rev = logs.current_revision.set("0123456789abcdef")
    try:
        log.info("synced %d objects", 4, extra={"trigger": "webhook"})
    finally:
        logs.current_app.reset(token_app)
        logs.current_revision.reset(token_rev)
    log.warning("outside any app")

    first, second = (json.loads(line) for line in capsys.readouterr().err.splitlines())
    assert first["msg"] == "synced 4 objects"
    assert (first["app"], first["revision"], first["trigger"]) == (
        "web",
        "0123456789abcdef",
        "webhook",
    )
    assert first["level"] == "info"
    assert first["time"].endswith("Z")
    assert (second["app"], second["revision"], second["level"]) == ("", "", "warning")


def test_text_lines_name_the_app(capsys: pytest.CaptureFixture[str]) -> None:
    logs.setup(json_format=False)
    token = logs.current_app.set("web")
    try:
        logging.getLogger("gitward.test").info("hello")
    finally:
        logs.current_app.reset(token)
    assert "[web] hello" in capsys.readouterr().err
