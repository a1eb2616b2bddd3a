"""Session-wide signing keys (real gpg and ssh-keygen) for the trust tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.trust.signing import Signers


@pytest.fixture(scope="session")
def signers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Signers]:
    made = Signers.make(tmp_path_factory.mktemp("signers"))
    yield made
    made.stop()


# ``gitward serve`` in-process with its fixtures (real cluster, real Git, real HTTP).
from tests.serve.conftest import cluster, repo, serve  # noqa: E402

__all__ = ["cluster", "repo", "serve", "signers"]
