"""Commit image updates and push them, with the real ``git``: the one adapter of image
automation that writes.

Before: :mod:`.policy` selected tags; :mod:`.setters` knows how to edit text. After:
the normal reconcile loop deploys the pushed commit.

A work tree per automation lives in gitward's cache. Each run fetches the branch,
starts from its head (the push branch's head when it exists, else the checkout
branch's: a pull-request branch collects updates), edits, commits and pushes. A push
that loses a race with another commit is never forced: the branch is fetched again,
the edit is made again on the new head (it is a function of the files and the
selections, so nothing is lost) and pushed again, a bounded number of times.

Credentials reach ``git`` through its environment (``GIT_CONFIG_*`` for an HTTP
``Authorization`` header, ``GIT_SSH_COMMAND`` for a key), never its command line;
the host's Git configuration is ignored.
"""

from __future__ import annotations

import base64
import hashlib
import os
import shlex
import subprocess
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from gitward.errors import ConfigError, SourceError
from gitward.imageauto.setters import Change, Latest, edit_text
from gitward.model import RepoCredentials
from gitward.model.images import UpdateAutomation
from gitward.source.urls import scrub_text

GIT_TIMEOUT = 120.0
_REJECTED = ("[rejected]", "[remote rejected]", "non-fast-forward", "fetch first", "stale info")


@dataclass(frozen=True)
class Pushed:
    """A commit pushed to ``branch``; ``attempts`` counts pushes (1: no race)."""

    sha: str
    branch: str
    changes: tuple[Change, ...]
    attempts: int


class PushRejectedError(SourceError):
    """Another commit reached the branch first (transient: fetch, edit again, retry)."""

    transient = True


class Workspace:
    """The work tree of one automation, under ``cache_dir``."""

    def __init__(
        self,
        cache_dir: Path,
        automation: UpdateAutomation,
        credentials: RepoCredentials | None = None,
    ) -> None:
        key = f"{automation.namespace}/{automation.name}\0{automation.repo_url}"
        self.auto = automation
        self.root = cache_dir / "imageauto" / hashlib.sha256(key.encode()).hexdigest()[:24]
        self.credentials = credentials

    def update(
        self,
        latest: Mapping[str, Latest],
        message: Callable[[list[Change]], str],
        *,
        attempts: int = 5,
    ) -> Pushed | None:
        """Edit, commit and push; None when every marked value is already current."""
        for attempt in range(1, attempts + 1):
            self._prepare()
            changes = self._edit(latest)
            if not changes:
                return None
            self._commit(message(changes))
            try:
                self._push()
            except PushRejectedError:
                if attempt == attempts:
                    raise
                continue
            sha = self._git("rev-parse", "HEAD").strip()
            return Pushed(sha, self.auto.push_branch, tuple(changes), attempt)
        return None  # pragma: no cover - the loop returns or raises

    # ------------------------------------------------------------------ steps

    def _prepare(self) -> None:
        """A clean work tree at the newest head of the branch updates go to."""
        if not (self.root / ".git").is_dir():
            self.root.mkdir(parents=True, exist_ok=True)
            self._git("init", "-q")
            self._git("remote", "add", "origin", self.auto.repo_url)
        for branch in dict.fromkeys((self.auto.checkout_branch, self.auto.push_branch)):
            self._fetch(branch)
        base = f"refs/remotes/origin/{self.auto.push_branch}"
        if not self._exists(base):
            base = f"refs/remotes/origin/{self.auto.checkout_branch}"
            if not self._exists(base):
                where = scrub_text(self.auto.repo_url)
                raise SourceError(
                    f"ImageUpdateAutomation {self.auto.namespace}/{self.auto.name}: branch "
                    f"{self.auto.checkout_branch!r} does not exist in {where}",
                    hint="check spec.git.checkout.ref.branch (or the source's branch)",
                )
        self._git("checkout", "-q", "-f", "-B", "gitward-imageauto", base)
        self._git("clean", "-q", "-fdx")

    def _edit(self, latest: Mapping[str, Latest]) -> list[Change]:
        top = (self.root / self.auto.path).resolve()
        if not top.is_relative_to(self.root.resolve()):
            raise ConfigError(
                f"ImageUpdateAutomation {self.auto.namespace}/{self.auto.name}: update.path "
                f"{self.auto.path!r} leads outside the repository"
            )
        changes: list[Change] = []
        for path in sorted(_yaml_files(top)):
            relative = str(path.relative_to(self.root))
            text = path.read_text(encoding="utf-8", errors="surrogateescape")
            edited, found = edit_text(text, latest, relative)
            if found:
                path.write_text(edited, encoding="utf-8", errors="surrogateescape")
                changes.extend(found)
        return changes

    def _commit(self, message: str) -> None:
        self._git("add", "-A")
        self._git("commit", "-q", "-F", "-", stdin=message.encode())

    def _push(self) -> None:
        """Push without force; a lost race raises :class:`PushRejectedError`."""
        target = f"HEAD:refs/heads/{self.auto.push_branch}"
        done = self._run(["push", "--porcelain", "origin", target])
        if done.returncode == 0:
            return
        output = (done.stdout + done.stderr).decode(errors="replace")
        if any(marker in output for marker in _REJECTED):
            raise PushRejectedError(
                f"push to {self.auto.push_branch} was rejected: the branch moved"
            )
        raise self._failure("push", output)

    # ------------------------------------------------------------------ git

    def _fetch(self, branch: str) -> None:
        """Update ``origin/branch``; forget it when the remote has no such branch."""
        tracking = f"refs/remotes/origin/{branch}"
        done = self._run(["fetch", "-q", "origin", f"+refs/heads/{branch}:{tracking}"])
        if done.returncode == 0:
            return
        output = (done.stdout + done.stderr).decode(errors="replace")
        if "couldn't find remote ref" not in output:
            raise self._failure("fetch", output)
        self._run(["update-ref", "-d", tracking])

    def _exists(self, ref: str) -> bool:
        return self._run(["rev-parse", "-q", "--verify", ref]).returncode == 0

    def _git(self, *args: str, stdin: bytes | None = None) -> str:
        done = self._run(list(args), stdin)
        if done.returncode != 0:
            output = (done.stdout + done.stderr).decode(errors="replace")
            raise self._failure(args[0], output)
        return done.stdout.decode(errors="replace")

    def _run(
        self, args: list[str], stdin: bytes | None = None
    ) -> subprocess.CompletedProcess[bytes]:
        try:
            return subprocess.run(
                ["git", *args],
                cwd=self.root,
                env=self._environment(),
                input=stdin,
                capture_output=True,
                timeout=GIT_TIMEOUT,
                check=False,
            )
        except subprocess.TimeoutExpired as e:
            raise SourceError(
                f"git {args[0]} for {scrub_text(self.auto.repo_url)} did not finish within "
                f"{GIT_TIMEOUT:g} s",
                transient=True,
            ) from e

    def _failure(self, what: str, output: str) -> SourceError:
        where = f"ImageUpdateAutomation {self.auto.namespace}/{self.auto.name}"
        return SourceError(
            f"{where}: git {what} on {scrub_text(self.auto.repo_url)} failed: "
            f"{scrub_text(output.strip())[-500:]}",
            hint="check the repository URL, the branch and the credentials",
            transient=what in ("fetch", "push"),
        )

    def _environment(self) -> dict[str, str]:
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(self.root),
            "LANG": "C",
            "GIT_CONFIG_NOSYSTEM": "1",
            "GIT_CONFIG_GLOBAL": os.devnull,
            "GIT_TERMINAL_PROMPT": "0",
            "GIT_AUTHOR_NAME": self.auto.author_name,
            "GIT_AUTHOR_EMAIL": self.auto.author_email,
            "GIT_COMMITTER_NAME": self.auto.author_name,
            "GIT_COMMITTER_EMAIL": self.auto.author_email,
        }
        creds = self.credentials
        if creds is not None and creds.password is not None:
            token = base64.b64encode(f"{creds.username or 'git'}:{creds.password}".encode())
            env["GIT_CONFIG_COUNT"] = "1"
            env["GIT_CONFIG_KEY_0"] = "http.extraHeader"
            env["GIT_CONFIG_VALUE_0"] = f"Authorization: Basic {token.decode()}"
        if creds is not None and creds.ssh_private_key_file is not None:
            ssh = ["ssh", "-i", creds.ssh_private_key_file, "-o", "IdentitiesOnly=yes"]
            if creds.known_hosts_file:
                ssh += ["-o", f"UserKnownHostsFile={creds.known_hosts_file}"]
            env["GIT_SSH_COMMAND"] = shlex.join(ssh)
        return env


def _yaml_files(top: Path) -> list[Path]:
    """YAML files under ``top``, never following a symlink (a link could point out)."""
    if top.is_file():
        return [top] if top.suffix in (".yaml", ".yml") and not top.is_symlink() else []
    found: list[Path] = []
    for directory, dirs, files in os.walk(top, followlinks=False):
        dirs[:] = [d for d in dirs if d != ".git"]
        for name in files:
            path = Path(directory) / name
            if path.suffix in (".yaml", ".yml") and not path.is_symlink():
                found.append(path)
    return found
