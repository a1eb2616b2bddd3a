"""Committing gitward's install into the config repository, with the ``git`` CLI.

``gitward bootstrap`` is run by a person, so pushing uses their own Git setup (credential
helpers, SSH agent) exactly as ``git push`` in a terminal would. The clone lives in a
temporary directory and is removed afterwards; nothing is ever force-pushed. A run that
would change no file makes no commit, which is what makes bootstrap idempotent.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from gitward.errors import ConfigError, SourceError
from gitward.paths import confine

_TIMEOUT = 120.0


@dataclass(frozen=True)
class Committed:
    sha: str
    changed: tuple[str, ...]  # paths written, empty when the repository already had them
    branch: str


def _git(*args: str, cwd: Path, env: Mapping[str, str] | None = None) -> str:
    try:
        done = subprocess.run(
            ["git", *args],
            cwd=cwd,
            env={**os.environ, "GIT_TERMINAL_PROMPT": "0", **(env or {})},
            capture_output=True,
            text=True,
            timeout=_TIMEOUT,
            check=False,
        )
    except subprocess.TimeoutExpired as e:
        raise SourceError(f"git {args[0]} did not finish within {_TIMEOUT:g} s") from e
    except FileNotFoundError as e:
        raise ConfigError("git is not installed", hint="install git and run again") from e
    if done.returncode != 0:
        raise SourceError(f"git {' '.join(args[:2])} failed: {done.stderr.strip()[-2000:]}")
    return done.stdout.strip()


def safe_path(path: str) -> PurePosixPath:
    """A relative path inside the repository, refusing absolute paths and ``..``."""
    pure = PurePosixPath(path.strip("/") or ".")
    if path.startswith("/") or ".." in pure.parts:
        raise ConfigError(f"--path {path!r} must be a relative path inside the repository")
    return pure


def commit_files(
    repo_url: str, files: Mapping[str, str], *, branch: str | None, message: str
) -> Committed:
    """Write ``files`` (repository path -> text) on ``branch``, commit and push if changed.

    ``branch`` None means the repository's default branch (``main`` for an empty one).
    """
    with tempfile.TemporaryDirectory(prefix="gitward-bootstrap-") as tmp:
        work = Path(tmp) / "repo"
        _git("clone", "--quiet", "--no-checkout", repo_url, str(work), cwd=Path(tmp))
        name = branch or _default_branch(work)
        if _succeeds(work, "rev-parse", "--verify", "--quiet", f"origin/{name}"):
            _git("checkout", "--quiet", "-B", name, f"origin/{name}", cwd=work)
        else:  # an empty repository, or a new branch: start it here
            _git("checkout", "--quiet", "--orphan", name, cwd=work)
        changed = tuple(sorted(p for p, text in files.items() if _write(work, p, text)))
        if not changed:
            return Committed(_git("rev-parse", "HEAD", cwd=work), (), name)
        _git("add", "--", *changed, cwd=work)
        _git("commit", "--quiet", "-m", message, cwd=work, env=_identity())
        _git("push", "--quiet", "origin", f"HEAD:refs/heads/{name}", cwd=work)
        return Committed(_git("rev-parse", "HEAD", cwd=work), changed, name)


def _default_branch(work: Path) -> str:
    """The remote's HEAD branch, or ``main`` when the repository has no commit yet."""
    ref = _git("symbolic-ref", "--quiet", "--short", "HEAD", cwd=work)
    return ref if _succeeds(work, "rev-parse", "--verify", "--quiet", f"origin/{ref}") else "main"


def _identity() -> dict[str, str]:
    """The user's Git identity when configured; otherwise one naming gitward."""
    env: dict[str, str] = {}
    for role in ("AUTHOR", "COMMITTER"):
        env[f"GIT_{role}_NAME"] = os.environ.get(f"GIT_{role}_NAME", "gitward bootstrap")
        env[f"GIT_{role}_EMAIL"] = os.environ.get(f"GIT_{role}_EMAIL", "gitward@localhost")
    return env


def _succeeds(work: Path, *args: str) -> bool:
    done = subprocess.run(
        ["git", *args],
        cwd=work,
        capture_output=True,
        check=False,
        timeout=_TIMEOUT,
    )
    return done.returncode == 0


def _write(work: Path, path: str, text: str) -> bool:
    """Write one file if its content differs; True when it was written."""
    target = confine(work, str(safe_path(path)), what="bootstrap file")
    if target.is_symlink() or (target.exists() and not target.is_file()):
        raise ConfigError(
            f"{path} in the repository is not a regular file; gitward will not replace it"
        )
    if target.is_file() and target.read_text(encoding="utf-8") == text:
        return False
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text, encoding="utf-8")
    return True
