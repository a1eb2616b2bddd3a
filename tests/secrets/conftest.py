"""Fixtures of the secrets tests: the pinned ``sops`` binary and fresh age identities.

Files are encrypted with the real Go-built ``sops`` (the toolchain builds it when
missing), so every test of gitward's own decryption is an interop test. Identities are
made with pyrage, in the format ``age-keygen`` writes.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pyrage
import pytest

from gitward.model import DecryptionKeys
from gitward.render import ManifestRenderer, RenderTools
from gitward.render.sops_keys import parse_identities
from gitward.toolchain import Toolchain


@dataclass(frozen=True)
class AgeKey:
    """An age identity written to ``file`` as age-keygen writes it."""

    file: Path
    recipient: str

    @property
    def keys(self) -> DecryptionKeys:
        return parse_identities(self.file.read_text(), str(self.file))


def make_key(directory: Path, name: str = "key.txt") -> AgeKey:
    identity = pyrage.x25519.Identity.generate()
    recipient = str(identity.to_public())
    file = directory / name
    file.write_text(f"# created: 2026-11-30T00:00:00Z\n# public key: {recipient}\n{identity}\n")
    file.chmod(0o600)
    return AgeKey(file, recipient)


@pytest.fixture(scope="session")
def sops_binary() -> Path:
    return Toolchain().ensure(["sops"])["sops"]


@pytest.fixture
def age_key(tmp_path: Path) -> AgeKey:
    return make_key(tmp_path)


@pytest.fixture
def other_key(tmp_path: Path) -> AgeKey:
    return make_key(tmp_path, "other-key.txt")


class Sops:
    """The real ``sops``, run on files of a directory; never given a private key."""

    def __init__(self, binary: Path, workdir: Path) -> None:
        self.binary = binary
        self.workdir = workdir

    def run(self, *args: str, key: AgeKey | None = None) -> str:
        env = {"PATH": os.environ.get("PATH", ""), "HOME": str(self.workdir)}
        if key is not None:
            env["SOPS_AGE_KEY_FILE"] = str(key.file)
        result = subprocess.run(
            [str(self.binary), *args],
            cwd=self.workdir,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        assert result.returncode == 0, result.stderr
        return result.stdout

    def encrypt(self, path: Path, *recipients: str, rules: tuple[str, ...] = ()) -> str:
        """The encrypted text of ``path`` (the file is left as it is)."""
        return self.run("encrypt", "--age", ",".join(recipients), *rules, str(path))

    def encrypt_in_place(self, path: Path, *recipients: str, rules: tuple[str, ...] = ()) -> None:
        path.write_text(self.encrypt(path, *recipients, rules=rules))


@pytest.fixture
def sops(sops_binary: Path, tmp_path: Path) -> Sops:
    return Sops(sops_binary, tmp_path)


@pytest.fixture(scope="session")
def tools() -> RenderTools:
    chain = Toolchain()
    found = chain.ensure(["kustomize", "helm"])
    return RenderTools(kustomize=found["kustomize"], helm=found["helm"])


@pytest.fixture
def plaintext_dir() -> Iterator[Path]:
    """A directory of this test's own on /dev/shm, where decrypted copies go; the test
    checks that nothing is left in it."""
    directory = Path(tempfile.mkdtemp(prefix="gitward-test-", dir="/dev/shm"))
    try:
        yield directory
    finally:
        shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture
def renderer(tools: RenderTools, plaintext_dir: Path) -> ManifestRenderer:
    return ManifestRenderer(
        dataclasses.replace(tools, plaintext_dir=plaintext_dir), timeout=60.0, cache_size=0
    )
