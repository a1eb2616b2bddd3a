"""A real, throwaway PostgreSQL server for the store tests.

How it starts: ``initdb --auth=trust -U gitward`` in a fresh directory, then ``pg_ctl
start`` listening on 127.0.0.1 only, on a free port, with its Unix socket in the same
directory. PostgreSQL refuses to run as root, so when the tests run as root (as in CI)
the server programs run as an unprivileged account — ``postgres`` if the machine has
one, else ``nobody`` — through ``subprocess``'s ``user=``/``group=`` (no sudo, no PAM),
in a directory under the system temp dir that this account owns. Clients (psycopg)
connect over TCP as the ``gitward`` role with trust authentication, so they need no
password and can run as any user.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import psycopg

SUPERUSER = "gitward"
_CANDIDATE_ACCOUNTS = ("postgres", "nobody")


class PostgresUnavailableError(RuntimeError):
    """PostgreSQL could not be started here; the message says exactly why."""


def find_bin_dir() -> Path:
    """The directory of the newest installed ``initdb`` / ``pg_ctl``."""
    found = shutil.which("initdb")
    if found:
        return Path(found).parent
    versions = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/initdb"),
        key=lambda p: int(p.parent.parent.name) if p.parent.parent.name.isdigit() else 0,
    )
    if not versions:
        raise PostgresUnavailableError(
            "no initdb on PATH or under /usr/lib/postgresql/*/bin: install PostgreSQL's "
            "server binaries (Debian: apt-get install postgresql)"
        )
    return versions[-1].parent


@dataclass(frozen=True)
class RunAs:
    """The OS account the server programs run as (None fields: the current user)."""

    uid: int | None = None
    gid: int | None = None

    @classmethod
    def choose(cls) -> RunAs:
        if os.geteuid() != 0:
            return cls()
        for name in _CANDIDATE_ACCOUNTS:
            try:
                entry = pwd.getpwnam(name)
            except KeyError:
                continue
            return cls(entry.pw_uid, entry.pw_gid)
        raise PostgresUnavailableError(
            "running as root and no unprivileged account (postgres, nobody) to run "
            "PostgreSQL as; create one with useradd"
        )


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class PostgresServer:
    """One PostgreSQL cluster in a temp directory; :meth:`stop` removes everything."""

    def __init__(self) -> None:
        self.bin_dir = find_bin_dir()
        self.run_as = RunAs.choose()
        self.root = Path(tempfile.mkdtemp(prefix="gitward-pg-"))
        if self.run_as.uid is not None:
            os.chown(self.root, self.run_as.uid, self.run_as.gid or -1)
        self.data = self.root / "data"
        self.log = self.root / "server.log"
        self.port = 0
        self._databases = 0

    def start(self) -> None:
        self._run(
            "initdb",
            "-D",
            str(self.data),
            "--auth=trust",
            f"-U{SUPERUSER}",
            "-E",
            "UTF8",
            "--no-sync",
        )
        self.port = free_port()
        self._pg_start()

    def _pg_start(self) -> None:
        options = (
            f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        )
        self._run(
            "pg_ctl",
            "-D",
            str(self.data),
            "-o",
            options,
            "-l",
            str(self.log),
            "-w",
            "-t",
            "60",
            "start",
        )

    def halt(self) -> None:
        """Stop the server (``-m fast``: sessions are cut off); its data stays."""
        self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")

    def resume(self) -> None:
        """Start a halted server again on the same port and data."""
        self._pg_start()

    def stop(self) -> None:
        try:
            if self.port:
                self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")
        finally:
            shutil.rmtree(self.root, ignore_errors=True)

    def url(self, database: str) -> str:
        return f"postgresql://{SUPERUSER}@127.0.0.1:{self.port}/{database}"

    def create_database(self) -> str:
        """A new empty database; returns its URL."""
        self._databases += 1
        name = f"store_test_{self._databases}"
        with psycopg.connect(self._admin_dsn, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"'.encode())
        return self.url(name)

    def drop_database(self, url: str) -> None:
        """Drop the database of ``url``, cutting off whoever is connected to it."""
        name = url.rsplit("/", 1)[1]
        with psycopg.connect(self._admin_dsn, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE "{name}" WITH (FORCE)'.encode())

    @property
    def _admin_dsn(self) -> str:
        return f"host=127.0.0.1 port={self.port} user={SUPERUSER} dbname=postgres"

    def _run(self, program: str, *args: str) -> None:
        result = subprocess.run(
            [str(self.bin_dir / program), *args],
            cwd=self.root,
            env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LC_ALL": "C.UTF-8"},
            user=self.run_as.uid,
            group=self.run_as.gid,
            extra_groups=[] if self.run_as.uid is not None else None,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        if result.returncode != 0:
            log = self.log.read_text(errors="replace")[-2000:] if self.log.exists() else ""
            raise PostgresUnavailableError(
                f"{program} {' '.join(args)} exited {result.returncode}:\n"
                f"{result.stdout}{result.stderr}\n{log}"
            )
