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

    def push(self, repository: str, *tags: str, build: str = "") -> None:
        """Push an image with these tags; another ``build`` makes another digest."""
        (self.home / "layer.txt").write_text(f"{repository}:{tags[0]} {build}\n")
        target = f"{self.server.host}/{repository}:{','.join(tags)}"
        run(
            [self.oras, "push", "--plain-http", target, "layer.txt:text/plain"],
            self.home,
            self.home,
        )

    def digest(self, repository: str, tag: str) -> str:
        """What the registry says ``tag`` points at, read by oras, not by gitward."""
        target = f"{self.server.host}/{repository}:{tag}"
        return run([self.oras, "resolve", "--plain-http", target], self.home).strip()


@pytest.fixture
def images_registry(tmp_path: Path) -> Iterator[Images]:
    tools = Toolchain().ensure(["registry", "oras"])
    home = tmp_path / "oras-home"
    home.mkdir()
    with registry(tools["registry"], tmp_path / "registry") as server:
        yield Images(server, tools["oras"], home)
