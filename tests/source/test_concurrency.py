"""Many threads resolving one repository share one mirror; the flock serialises fetches."""

from __future__ import annotations

import threading
from pathlib import Path

from gitward.model import Revision
from gitward.source import GitRepositorySource

from .gitfixtures import GitRepo


def test_parallel_resolves_fetch_into_one_mirror(repo: GitRepo, tmp_path: Path) -> None:
    sha = repo.commit({"x.yaml": "x: 1\n"})
    results: list[Revision] = []
    errors: list[BaseException] = []

    def work() -> None:
        try:
            results.append(GitRepositorySource(tmp_path / "cache").resolve(str(repo.bare), "main"))
        except BaseException as e:  # reported by the assertion below
            errors.append(e)

    threads = [threading.Thread(target=work) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert {r.sha for r in results} == {sha}
    assert len(list((tmp_path / "cache" / "mirrors").glob("*.git"))) == 1
