"""The real registry (built from Go modules) with tags pushed by the built ``oras``."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from gitward.toolchain import Toolchain
from tests.registries.servers import Registry, registry, run
from tests.serve.conftest import cluster, serve

__all__ = ["cluster", "images_registry", "serve"]


@dataclass
class Images:
    """A registry and a way to give a repository more tags, as CI pushes images."""

    server: Registry
    oras: Path
    home: Path

    def push(self, repository: str, *tags: str) -> None:
        (self.home / "layer.txt").write_text(f"{repository}:{tags[0]}\n")
        target = f"{self.server.host}/{repository}:{','.join(tags)}"
        run(
            [self.oras, "push", "--plain-http", target, "layer.txt:text/plain"],
            self.home,
            self.home,
        )


@pytest.fixture
def images_registry(tmp_path: Path) -> Iterator[Images]:
    tools = Toolchain().ensure(["registry", "oras"])
    home = tmp_path / "oras-home"
    home.mkdir()
    with registry(tools["registry"], tmp_path / "registry") as server:
        yield Images(server, tools["oras"], home)
