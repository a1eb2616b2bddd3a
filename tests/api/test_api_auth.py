"""Auth: the admin token file, bearer authentication, roles, and the tokens file."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from gitward.api.auth import (
    ADMIN_TOKEN_FILE,
    READ_ACTIONS,
    AuthError,
    ForbiddenError,
    Principal,
    Role,
    TokenAuthenticator,
    authorize,
    ensure_admin_token,
    load_tokens_file,
    read_token,
    token_digest,
)
from gitward.errors import ConfigError

ADMIN = Principal("admin", frozenset({Role.ADMIN}))
VIEWER = Principal("dashboard", frozenset({Role.VIEWER}))
NOBODY = Principal("nobody", frozenset())
ADMIN_TOKEN = "Zq3Vf0yS8pD3nA1kL7tR9wX2cB5mH4jG6eU0iO8aY1s"
VIEWER_TOKEN = "Ab1Cd2Ef3Gh4Ij5Kl6Mn7Op8Qr9St0Uv1Wx2Yz3Ab4"


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def umask_wide_open() -> Iterator[None]:
    old = os.umask(0)
    try:
        yield
    finally:
        os.umask(old)


# ------------------------------------------------------------------------ admin token


def test_the_admin_token_is_created_private(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    caplog.set_level(logging.DEBUG)
    state = tmp_path / "state" / "gitward"
    path, created = ensure_admin_token(state)
    assert (path, created) == (state / ADMIN_TOKEN_FILE, True)
    assert mode(path) == 0o600
    assert mode(state) == 0o700
    token = read_token(path)
    assert len(token) == 43  # token_urlsafe(32)
    out = capsys.readouterr()
    assert token not in caplog.text + out.out + out.err


def test_the_admin_token_is_kept_on_restart(tmp_path: Path) -> None:
    path, _ = ensure_admin_token(tmp_path)
    token = read_token(path)
    assert ensure_admin_token(tmp_path) == (path, False)
    assert read_token(path) == token


def test_modes_do_not_depend_on_the_umask(tmp_path: Path, umask_wide_open: None) -> None:
    path, _ = ensure_admin_token(tmp_path / "new")
    assert mode(path) == 0o600
    assert mode(path.parent) == 0o700


def test_an_existing_state_directory_is_left_alone(tmp_path: Path) -> None:
    tmp_path.chmod(0o755)
    ensure_admin_token(tmp_path)
    assert mode(tmp_path) == 0o755


@pytest.mark.parametrize("file_mode", [0o644, 0o640, 0o604, 0o620, 0o666])
def test_a_token_file_open_to_others_is_refused(tmp_path: Path, file_mode: int) -> None:
    path = tmp_path / ADMIN_TOKEN_FILE
    path.write_text(ADMIN_TOKEN)
    path.chmod(file_mode)
    with pytest.raises(ConfigError, match="group or others") as caught:
        ensure_admin_token(tmp_path)
    assert f"chmod 600 {path}" in str(caught.value)
    assert ADMIN_TOKEN not in str(caught.value)
    with pytest.raises(ConfigError):
        read_token(path)


def test_a_symlinked_token_file_is_refused(tmp_path: Path) -> None:
    target = tmp_path / "elsewhere"
    target.write_text(ADMIN_TOKEN)
    target.chmod(0o600)
    (tmp_path / ADMIN_TOKEN_FILE).symlink_to(target)
    with pytest.raises(ConfigError, match="symlink"):
        ensure_admin_token(tmp_path)


def test_a_dangling_symlink_is_not_followed_on_creation(tmp_path: Path) -> None:
    (tmp_path / ADMIN_TOKEN_FILE).symlink_to(tmp_path / "planted")
    with pytest.raises(ConfigError):
        ensure_admin_token(tmp_path)
    assert not (tmp_path / "planted").exists()


def test_an_empty_token_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / ADMIN_TOKEN_FILE
    path.touch(mode=0o600)
    with pytest.raises(ConfigError, match="empty"):
        ensure_admin_token(tmp_path)


def test_a_directory_in_the_way_is_refused(tmp_path: Path) -> None:
    (tmp_path / ADMIN_TOKEN_FILE).mkdir(mode=0o700)
    with pytest.raises(ConfigError):
        ensure_admin_token(tmp_path)


# ---------------------------------------------------------------------- authentication


@pytest.fixture
def authenticator() -> TokenAuthenticator:
    return TokenAuthenticator({ADMIN_TOKEN: ADMIN, VIEWER_TOKEN: VIEWER})


@pytest.mark.parametrize(
    ("header", "principal"),
    [
        (f"Bearer {ADMIN_TOKEN}", ADMIN),
        (f"Bearer {VIEWER_TOKEN}", VIEWER),
        (f"bearer {ADMIN_TOKEN}", ADMIN),
        (f"BEARER   {VIEWER_TOKEN}  ", VIEWER),
    ],
)
def test_valid_tokens(authenticator: TokenAuthenticator, header: str, principal: Principal) -> None:
    assert authenticator.authenticate(header) == principal


@pytest.mark.parametrize(
    ("header", "message"),
    [
        (None, "no Authorization header"),
        ("", "no Authorization header"),
        ("   ", "no Authorization header"),
        ("Bearer", "not of the form"),
        ("Bearer   ", "not of the form"),
        (f"Basic {ADMIN_TOKEN}", "not of the form"),
        (ADMIN_TOKEN, "not of the form"),
        ("Bearer wrong", "not valid"),
        (f"Bearer {ADMIN_TOKEN[:-1]}", "not valid"),
        (f"Bearer {ADMIN_TOKEN}x", "not valid"),
        (f"Bearer {ADMIN_TOKEN.lower()}", "not valid"),
        (f"Bearer {token_digest(ADMIN_TOKEN)}", "not valid"),  # the digest is not the token
        ("Bearer \udcff", "not valid"),
    ],
)
def test_invalid_or_missing_tokens(
    authenticator: TokenAuthenticator, header: str | None, message: str
) -> None:
    with pytest.raises(AuthError, match=message) as caught:
        authenticator.authenticate(header)
    assert caught.value.status == 401
    assert ADMIN_TOKEN not in str(caught.value)


def test_no_tokens_configured_refuses_everyone() -> None:
    with pytest.raises(AuthError):
        TokenAuthenticator({}).authenticate(f"Bearer {ADMIN_TOKEN}")


def test_an_empty_token_cannot_be_configured() -> None:
    with pytest.raises(ConfigError, match="empty"):
        TokenAuthenticator({" ": ADMIN})


def test_from_digests() -> None:
    auth = TokenAuthenticator.from_digests({token_digest(VIEWER_TOKEN).upper(): VIEWER})
    assert auth.authenticate(f"Bearer {VIEWER_TOKEN}") == VIEWER
    with pytest.raises(AuthError):
        auth.authenticate(f"Bearer {ADMIN_TOKEN}")


def test_token_digest_is_plain_sha256() -> None:
    assert token_digest("abc") == hashlib.sha256(b"abc").hexdigest()


# ----------------------------------------------------------------------- authorization

ALL_ACTIONS = sorted(READ_ACTIONS | {"sync", "refresh", "rollback", "suspend", "delete"})


@pytest.mark.parametrize("action", ALL_ACTIONS)
def test_admin_may_do_everything(action: str) -> None:
    authorize(ADMIN, action)


@pytest.mark.parametrize("action", sorted(READ_ACTIONS))
def test_viewer_may_read(action: str) -> None:
    authorize(VIEWER, action)


@pytest.mark.parametrize("action", sorted(set(ALL_ACTIONS) - READ_ACTIONS))
@pytest.mark.parametrize("principal", [VIEWER, NOBODY])
def test_others_may_not_act(principal: Principal, action: str) -> None:
    with pytest.raises(ForbiddenError, match=f"{principal.name} .* may not {action}") as caught:
        authorize(principal, action)
    assert caught.value.status == 403


def test_no_role_may_not_even_read() -> None:
    with pytest.raises(ForbiddenError, match="no role"):
        authorize(NOBODY, "get")


# -------------------------------------------------------------------------- tokens file


def write_private(path: Path, text: str, file_mode: int = 0o600) -> Path:
    path.write_text(text)
    path.chmod(file_mode)
    return path


def test_a_yaml_tokens_file(tmp_path: Path) -> None:
    path = write_private(
        tmp_path / "tokens.yaml",
        f"""
- name: ci-bot
  role: viewer
  token_sha256: {token_digest(VIEWER_TOKEN)}
- name: ops
  role: admin
  token_sha256: {token_digest(ADMIN_TOKEN).upper()}
""",
        0o644,  # readable is fine: it holds no secrets
    )
    tokens = load_tokens_file(path)
    auth = TokenAuthenticator.from_digests(tokens)
    assert auth.authenticate(f"Bearer {VIEWER_TOKEN}") == Principal(
        "ci-bot", frozenset({Role.VIEWER})
    )
    assert auth.authenticate(f"Bearer {ADMIN_TOKEN}").roles == {Role.ADMIN}


def test_a_json_tokens_file(tmp_path: Path) -> None:
    entries = [{"name": "ci", "role": "viewer", "token_sha256": token_digest(VIEWER_TOKEN)}]
    path = write_private(tmp_path / "tokens.json", json.dumps(entries))
    assert load_tokens_file(path) == {
        token_digest(VIEWER_TOKEN): Principal("ci", frozenset({Role.VIEWER}))
    }


DIGEST = token_digest(VIEWER_TOKEN)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("name: x", "expected a list"),
        ("- [x]", "entry 1: expected a mapping"),
        (f"- {{role: viewer, token_sha256: {DIGEST}}}", "name is missing"),
        (f"- {{name: x, role: root, token_sha256: {DIGEST}}}", "role must be one of"),
        ("- {name: x, role: viewer, token_sha256: abc}", "64-character hex"),
        (f"- {{name: x, role: viewer, token: {VIEWER_TOKEN}}}", "token_sha256 must be"),
        (
            f"- {{name: a, role: viewer, token_sha256: {DIGEST}}}\n"
            f"- {{name: b, role: admin, token_sha256: {DIGEST}}}",
            "entry 2 repeats",
        ),
        ("- {name: [unclosed", "not valid YAML"),
    ],
)
def test_bad_tokens_files_are_refused(tmp_path: Path, text: str, message: str) -> None:
    path = write_private(tmp_path / "tokens.yaml", text)
    with pytest.raises(ConfigError, match=message):
        load_tokens_file(path)


@pytest.mark.parametrize("file_mode", [0o620, 0o602, 0o666])
def test_a_tokens_file_others_may_change_is_refused(tmp_path: Path, file_mode: int) -> None:
    path = write_private(tmp_path / "tokens.yaml", "[]", file_mode)
    with pytest.raises(ConfigError, match="changed by group or others") as caught:
        load_tokens_file(path)
    assert "chmod go-w" in str(caught.value)


def test_a_missing_tokens_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot open"):
        load_tokens_file(tmp_path / "absent.yaml")
