"""Run ``kustomize`` and ``helm`` with a deadline, without network, in a private home.

Rendering must be a function of the commit alone: a chart or kustomization that reaches
the network would make the result depend on the day, and a slow remote would stall the
reconcile loop. So each run gets an environment built from scratch (nothing inherited):

* ``HTTP(S)_PROXY`` and ``ALL_PROXY`` point at ``127.0.0.1:1``, where nothing listens,
  so any HTTP fetch is refused at once instead of hanging; ``NO_PROXY`` is not set.
* ``GIT_ALLOW_PROTOCOL=file`` stops the ``git`` that kustomize runs for remote bases
  from using https, ssh or git; the user's git configuration is ignored.
* ``HOME``, the XDG directories and Helm's cache, config and data homes live in a
  temporary directory, so no repository list, registry login or plugin of the host is
  used.

A run that outlives its deadline is killed with its whole process group (kustomize
starts ``git`` and ``helm``). Used by :mod:`gitward.render.kustomize` and
:mod:`gitward.render.helm`.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
from pathlib import Path

from gitward.errors import RenderError, ToolchainError

CLOSED_PROXY = "http://127.0.0.1:1"
# What a refused network access looks like in the output of Go's HTTP client and git.
_OFFLINE_MARKERS = ("127.0.0.1:1", "transport 'https' not allowed", "transport 'ssh' not allowed")
_OFFLINE_HINT = (
    "gitward renders without network: vendor remote bases, resources and charts into the repository"
)
_MAX_ERROR_LINES = 30


def offline_environment(home: Path, search_path: str) -> dict[str, str]:
    """The complete environment of a render run, with every private directory under ``home``."""
    env = {
        "PATH": search_path,
        "HOME": str(home),
        "TMPDIR": str(home),
        "LANG": "C.UTF-8",
        "GIT_ALLOW_PROTOCOL": "file",
        "GIT_TERMINAL_PROMPT": "0",
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_CONFIG_GLOBAL": os.devnull,
    }
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY"):
        env[name] = env[name.lower()] = CLOSED_PROXY
    for name, sub in (
        ("XDG_CONFIG_HOME", "config"),
        ("XDG_CACHE_HOME", "cache"),
        ("XDG_DATA_HOME", "data"),
        ("HELM_CONFIG_HOME", "helm/config"),
        ("HELM_CACHE_HOME", "helm/cache"),
        ("HELM_DATA_HOME", "helm/data"),
    ):
        directory = home / sub
        directory.mkdir(parents=True, exist_ok=True)
        env[name] = str(directory)
    return env


def trim_stderr(stderr: str) -> str:
    """The useful end of a program's error output: its last lines, stripped."""
    lines = [line.rstrip() for line in stderr.strip().splitlines() if line.strip()]
    if len(lines) > _MAX_ERROR_LINES:
        lines = ["...", *lines[-_MAX_ERROR_LINES:]]
    return "\n".join(lines) or "(no error output)"


def _kill_group(process: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)


def run_tool(
    argv: list[str], *, what: str, location: str, env: dict[str, str], cwd: Path, timeout: float
) -> str:
    """The standard output of ``argv``; a :class:`RenderError` naming ``location`` if it fails.

    ``what`` names the run for a person ("kustomize build"); ``location`` is the
    application path in the repository.
    """
    try:
        process = subprocess.Popen(
            argv,
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )
    except OSError as e:
        raise ToolchainError(
            f"cannot run {argv[0]}: {e.strerror}",
            hint="check the kustomize and helm paths given to the renderer",
        ) from e
    try:
        stdout, stderr = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired as e:
        _kill_group(process)
        process.communicate()
        raise RenderError(
            f"{what} did not finish within {timeout:g} s and was stopped",
            location=location,
            hint="a render must not need the network; check for remote bases or charts",
        ) from e
    if process.returncode != 0:
        message = trim_stderr(stderr.decode("utf-8", errors="replace"))
        offline = any(marker in message for marker in _OFFLINE_MARKERS)
        raise RenderError(
            f"{what} failed:\n{message}", location=location, hint=_OFFLINE_HINT if offline else None
        )
    return stdout.decode("utf-8", errors="replace")
