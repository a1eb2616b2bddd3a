"""Hostile registries and archives: each a clear error, nothing cached, nothing outside it.

A real registry would never answer like this, so the hostile answers come from a small
HTTP server of the test (the point is the response, not the protocol around it).
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import re
import tarfile
from collections.abc import Mapping
from pathlib import Path

import pytest

from gitward.errors import SourceError
from gitward.model import RepoCredentials, SourceSpec
from gitward.source import GitRepositorySource
from gitward.source.archive import UnpackLimits, unpack
from gitward.source.oci import list_tags

from .servers import Answer, StaticServer

MANIFEST = "application/vnd.oci.image.manifest.v1+json"


def sha(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def tgz(entries: list[tuple[tarfile.TarInfo, bytes]]) -> bytes:
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w:gz") as archive:
        for info, data in entries:
            info.size = len(data) if info.isfile() else 0
            archive.addfile(info, io.BytesIO(data) if info.isfile() else None)
    return out.getvalue()


def entry(name: str, kind: bytes = tarfile.REGTYPE, link: str = "") -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type = kind
    info.linkname = link
    return info


CHART_YAML = b"apiVersion: v2\nname: evil\nversion: 1.0.0\n"


def files_outside(root: Path, cache: Path) -> list[Path]:
    """Files under ``root`` but not in the cache or the served directory."""
    return [
        p
        for p in root.rglob("*")
        if p.is_file() and not p.is_relative_to(cache) and not p.is_relative_to(root / "served")
    ]


def serve_chart(tmp_path: Path, archive: bytes) -> StaticServer:
    served = tmp_path / "served"
    served.mkdir()
    (served / "evil-1.0.0.tgz").write_bytes(archive)
    index = {
        "apiVersion": "v1",
        "entries": {
            "evil": [
                {
                    "name": "evil",
                    "version": "1.0.0",
                    "urls": ["evil-1.0.0.tgz"],
                    "digest": sha(archive).removeprefix("sha256:"),
                }
            ]
        },
    }
    (served / "index.yaml").write_text(json.dumps(index))
    return StaticServer(served)


@pytest.mark.parametrize(
    ("entries", "message"),
    [
        (
            [(entry("evil/../../escaped.txt"), b"x")],
            "'evil/../../escaped.txt' has a '..' component",
        ),
        ([(entry("/var/escaped.txt"), b"x")], "'/var/escaped.txt' has an absolute path"),
        (
            [(entry("evil/link", tarfile.SYMTYPE, "/etc/passwd"), b"")],
            "'evil/link' is a link (to '/etc/passwd')",
        ),
        ([(entry("evil/hard", tarfile.LNKTYPE, "../../x"), b"")], "'evil/hard' is a link"),
        (
            [(entry("evil/dev", tarfile.CHRTYPE), b"")],
            "'evil/dev' is a device, FIFO or other special",
        ),
        ([(entry("evil/fifo", tarfile.FIFOTYPE), b"")], "'evil/fifo' is a device, FIFO"),
    ],
)
def test_a_chart_archive_that_points_out_is_refused_naming_the_entry(
    tmp_path: Path, entries: list[tuple[tarfile.TarInfo, bytes]], message: str
) -> None:
    archive = tgz([(entry("evil/Chart.yaml"), CHART_YAML), *entries])
    cache = tmp_path / "cache"
    source = GitRepositorySource(cache)
    with serve_chart(tmp_path, archive) as server:
        spec = SourceSpec(server.url, chart="evil", target_revision="1.0.0")
        revision = source.resolve_source(spec)
        with pytest.raises(SourceError, match="archive entry") as info:
            source.checkout_source(spec, revision)
    assert message in str(info.value)
    assert "chart evil 1.0.0" in str(info.value)
    assert not (cache / "registries" / "trees" / revision.sha.removeprefix("sha256:")).exists()
    assert files_outside(tmp_path, cache) == []
    assert list((cache / "registries" / "trees").iterdir()) == []  # no partial tree left


def test_an_archive_that_unpacks_beyond_the_bound_is_refused(tmp_path: Path) -> None:
    archive = tgz([(entry("a/big"), b"\0" * 4096), (entry("a/bigger"), b"\0" * 8192)])
    with pytest.raises(SourceError, match=r"unpacks to more than .* \(at entry 'a/bigger'\)"):
        unpack(archive, tmp_path / "out", "test archive", UnpackLimits(max_bytes=10_000))
    assert not (tmp_path / "out").exists()


def test_an_index_that_does_not_parse_names_its_url(tmp_path: Path) -> None:
    served = tmp_path / "served"
    served.mkdir()
    (served / "index.yaml").write_text("entries:\n  hello: [\n   - oops: {\n")
    with StaticServer(served) as server:
        spec = SourceSpec(server.url, chart="hello", target_revision="1.0.0")
        with pytest.raises(SourceError, match=r"index .*/index\.yaml is not valid YAML") as info:
            GitRepositorySource(tmp_path / "cache").resolve_source(spec)
    assert server.url in str(info.value)


def test_a_chart_whose_archive_does_not_match_the_index_digest_is_refused(tmp_path: Path) -> None:
    archive = tgz([(entry("evil/Chart.yaml"), CHART_YAML)])
    with serve_chart(tmp_path, archive) as server:
        (server.root / "evil-1.0.0.tgz").write_bytes(
            tgz([(entry("evil/Chart.yaml"), CHART_YAML + b"#")])
        )
        spec = SourceSpec(server.url, chart="evil", target_revision="1.0.0")
        source = GitRepositorySource(tmp_path / "cache")
        with pytest.raises(SourceError, match="but the index lists"):
            source.checkout_source(spec, source.resolve_source(spec))
    assert files_outside(tmp_path, tmp_path / "cache") == []


class FakeRegistry:
    """Answers the distribution API for one artifact, with whatever the test puts in."""

    def __init__(
        self,
        tmp_path: Path,
        layer: bytes,
        *,
        declared: int | None = None,
        sent: bytes | None = None,
    ) -> None:
        self.layer_descriptor = {
            "mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
            "digest": sha(layer),
            "size": len(layer) if declared is None else declared,
        }
        self.manifest = json.dumps(
            {
                "schemaVersion": 2,
                "mediaType": MANIFEST,
                "config": {
                    "mediaType": "application/vnd.oci.empty.v1+json",
                    "digest": sha(b"{}"),
                    "size": 2,
                },
                "layers": [self.layer_descriptor],
            }
        ).encode()
        self.sent = layer if sent is None else sent
        (tmp_path / "served").mkdir(exist_ok=True)
        self.server = StaticServer(tmp_path / "served")
        self.server.override = self.answer

    def answer(self, path: str, headers: Mapping[str, str]) -> Answer | None:
        if path.endswith("/manifests/1.0.0") or path.endswith(f"/manifests/{sha(self.manifest)}"):
            return 200, {"Content-Type": MANIFEST}, self.manifest
        if "/blobs/" in path:
            return 200, {"Content-Length": ""}, self.sent  # no length: only counting stops it
        return 404, {}, b"{}"

    def spec(self) -> SourceSpec:
        host = self.server.url.removeprefix("http://")
        return SourceSpec(f"oci://{host}/web", target_revision="1.0.0", plain_http=True)


def test_a_blob_whose_digest_does_not_match_is_refused_and_not_cached(tmp_path: Path) -> None:
    good = tgz([(entry("deploy/cm.yaml"), b"kind: ConfigMap\n")])
    evil = tgz([(entry("deploy/cm.yaml"), b"kind: Secret\n")])
    fake = FakeRegistry(
        tmp_path,
        good,
        sent=evil + b"\0" * (len(good) - len(evil)) if len(evil) < len(good) else evil[: len(good)],
    )
    cache = tmp_path / "cache"
    with fake.server:
        source = GitRepositorySource(cache)
        revision = source.resolve_source(fake.spec())
        with pytest.raises(
            SourceError, match="the registry sent content whose digest is sha256:"
        ) as info:
            source.checkout_source(fake.spec(), revision)
    assert f"not {sha(good)}" in str(info.value)
    assert list((cache / "registries" / "trees").iterdir()) == []
    assert files_outside(tmp_path, cache) == []


def test_an_artifact_declaring_2_gb_is_refused_before_any_download(tmp_path: Path) -> None:
    fake = FakeRegistry(tmp_path, b"tiny", declared=2 * 1024**3)
    with fake.server:
        source = GitRepositorySource(tmp_path / "cache")
        revision = source.resolve_source(fake.spec())
        with pytest.raises(
            SourceError,
            match=re.escape(
                "declares 2147483648 bytes (2048.0 MiB), more than the limit of 64 MiB; "
                "nothing was downloaded"
            ),
        ):
            source.checkout_source(fake.spec(), revision)
    assert not any("/blobs/" in p for p in fake.server.requests)


def test_a_blob_longer_than_declared_is_cut_off_while_streaming(tmp_path: Path) -> None:
    fake = FakeRegistry(tmp_path, b"x" * 100, sent=b"x" * 5_000_000)
    with fake.server:
        source = GitRepositorySource(tmp_path / "cache")
        with pytest.raises(SourceError, match="the server sent more than the limit of 100 bytes"):
            source.checkout_source(fake.spec(), source.resolve_source(fake.spec()))


def test_the_docker_token_flow_fetches_a_bearer_token_with_the_basic_credentials(
    tmp_path: Path,
) -> None:
    token_requests: list[tuple[str, str]] = []
    (tmp_path / "served").mkdir()
    server = StaticServer(tmp_path / "served")

    def answer(path: str, headers: Mapping[str, str]) -> Answer | None:
        auth = headers.get("Authorization", "")
        if path.startswith("/token?"):
            token_requests.append((path, auth))
            return 200, {}, json.dumps({"token": "tok-123"}).encode()
        if auth != "Bearer tok-123":
            realm = f"{server.url}/token"
            challenge = f'Bearer realm="{realm}",service="test",scope="repository:web:pull"'
            return 401, {"WWW-Authenticate": challenge}, b""
        return 200, {}, json.dumps({"name": "web", "tags": ["1.0.0"]}).encode()

    server.override = answer
    with server:
        host = server.url.removeprefix("http://")
        creds = RepoCredentials(username="robot", password="pw")
        assert list_tags(f"oci://{host}/web", creds, plain_http=True) == ["1.0.0"]
    robot = "Basic " + base64.b64encode(b"robot:pw").decode()
    assert token_requests == [("/token?service=test&scope=repository%3Aweb%3Apull", robot)]
