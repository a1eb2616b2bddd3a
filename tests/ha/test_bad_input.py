"""``serve --ha`` refuses what it cannot run on safely, with a message that says why.

Each case runs ``gitward serve`` as a process (as a user or a pod would) and expects it
to stop at start with a clear error: nothing is synced, the store is left as it was.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from gitward.store import Store, parse_store_url
from tests.store.conftest import FakeClock
from tests.store.postgres import PostgresServer, free_port


def serve(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    config = tmp_path / "config"
    config.mkdir(exist_ok=True)
    command = [sys.executable, "-m", "gitward", "serve", "--config", str(config)]
    command += ["--state-dir", str(tmp_path / "state"), "--listen", f"127.0.0.1:{free_port()}"]
    command += ["--kubeconfig", str(tmp_path / "no-kubeconfig"), *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=300, check=False)


def test_postgresql_unreachable_at_start_is_a_clear_error(tmp_path: Path) -> None:
    url = f"postgresql://gitward@127.0.0.1:{free_port()}/gitward"

    result = serve(tmp_path, "--ha", "--db", url, "--replica-id", "r1")

    assert result.returncode != 0
    assert "cannot open and migrate the store" in result.stderr
    assert "is PostgreSQL running and reachable" in result.stderr
    assert "Traceback" not in result.stderr


def test_ha_on_sqlite_is_refused(tmp_path: Path) -> None:
    result = serve(tmp_path, "--ha", "--replica-id", "r1")

    assert result.returncode != 0
    assert "--ha needs a PostgreSQL store shared by every replica" in result.stderr


async def test_a_store_of_a_newer_schema_is_refused_and_left_alone(
    tmp_path: Path, postgres: PostgresServer
) -> None:
    url = postgres.create_database()
    await (await Store.open(url, FakeClock())).close()
    engine = create_async_engine(parse_store_url(url).url)
    async with engine.begin() as conn:
        await conn.execute(text("UPDATE alembic_version SET version_num = '9999'"))

    result = serve(tmp_path, "--ha", "--db", url, "--replica-id", "r1")

    assert result.returncode != 0
    assert "schema revision '9999'" in result.stderr
    assert "which this version of gitward does not know" in result.stderr
    async with engine.begin() as conn:
        version = (await conn.execute(text("SELECT version_num FROM alembic_version"))).scalar()
        tables = (await conn.execute(text("SELECT count(*) FROM app_owner"))).scalar()
    await engine.dispose()
    assert (version, tables) == ("9999", 0)


@pytest.mark.parametrize(
    ("args", "error"),
    [
        (("--ha", "--shard-by", "namespace"), "--shard-by 'namespace': use app or cluster"),
        (("--shard-by", "cluster"), "--shard-by needs --ha"),
    ],
)
def test_a_shard_by_gitward_cannot_honour_is_refused_at_start(
    tmp_path: Path, args: tuple[str, ...], error: str
) -> None:
    result = serve(tmp_path, *args)

    assert result.returncode != 0
    assert error in result.stderr
