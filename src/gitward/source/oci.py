"""A client for the OCI distribution API: tags, manifests and blobs, verified by digest.

Used for charts pushed with ``helm push`` (:mod:`.registries`), artifacts of plain
manifests pushed with ``oras push`` or ``flux push artifact``, and by image automation
(:func:`list_tags`). HTTP, authentication and bounds are :mod:`.download`'s.

Trust rests on digests: a manifest fetched by digest must hash to it, and every blob
must hash to the digest its descriptor names; anything else is refused before it is
used or cached. A manifest declares its layers' sizes, so an artifact larger than the
limit is refused before one byte of it is downloaded; the byte count while streaming
catches a server that lies about the size.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from gitward.errors import RevisionNotFoundError, SourceError
from gitward.model import RepoCredentials
from gitward.source.download import Downloader, Limits, NotFoundError, Response
from gitward.source.semver import RangeError, parse_range

MAX_MANIFEST_BYTES = 4 * 1024 * 1024
MAX_ARTIFACT_BYTES = 64 * 1024 * 1024  # the sum of an artifact's layers
MAX_TAGS_BYTES = 16 * 1024 * 1024
MANIFEST_TYPES = (
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.v2+json",
)
INDEX_TYPES = (
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
)
DIGEST = re.compile(r"^sha256:[0-9a-f]{64}$")
_REPOSITORY = re.compile(
    r"^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$"
)
_TAG = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")


@dataclass(frozen=True)
class Repository:
    """``host[:port]/name`` in a registry; ``plain_http`` for a registry without TLS."""

    host: str
    name: str
    plain_http: bool = False

    @property
    def base(self) -> str:
        return f"{'http' if self.plain_http else 'https'}://{self.host}/v2/{self.name}"

    def __str__(self) -> str:
        return f"oci://{self.host}/{self.name}"


def parse_repository(url: str, *, plain_http: bool = False) -> Repository:
    """``oci://host/name`` or ``host/name`` (as Argo CD accepts) as a :class:`Repository`."""
    text = url.strip().removeprefix("oci://").rstrip("/")
    host, _, name = text.partition("/")
    if "://" in text or not host or not name or not _REPOSITORY.match(name):
        raise SourceError(
            f"{url!r} is not an OCI repository like oci://registry.example.com/path/name",
            hint="lowercase letters, digits and . _ - / in the name; no tag or digest in the URL",
            transient=False,
        )
    return Repository(host, name, plain_http)


@dataclass(frozen=True)
class Descriptor:
    media_type: str
    digest: str
    size: int
    annotations: tuple[tuple[str, str], ...] = ()

    def annotation(self, key: str) -> str | None:
        return dict(self.annotations).get(key)


@dataclass(frozen=True)
class Manifest:
    digest: str
    media_type: str
    artifact_type: str | None
    config: Descriptor
    layers: tuple[Descriptor, ...]


def _descriptor(data: Any, what: str) -> Descriptor:
    if not isinstance(data, dict):
        raise SourceError(f"{what}: a descriptor is not an object")
    digest, size = data.get("digest"), data.get("size")
    if not isinstance(digest, str) or not DIGEST.match(digest):
        raise SourceError(f"{what}: descriptor digest {digest!r} is not a sha256 digest")
    if not isinstance(size, int) or isinstance(size, bool) or size < 0:
        raise SourceError(f"{what}: descriptor size {size!r} is not a byte count")
    notes = data.get("annotations") or {}
    annotations = (
        tuple(sorted((str(k), str(v)) for k, v in notes.items())) if isinstance(notes, dict) else ()
    )
    return Descriptor(str(data.get("mediaType", "")), digest, size, annotations)


def parse_manifest(body: bytes, digest: str, what: str) -> Manifest:
    """A manifest's layers; image indexes (several platforms) are refused, naming them."""
    try:
        data = json.loads(body)
    except ValueError as e:
        raise SourceError(f"{what}: the manifest is not JSON: {e}", transient=False) from e
    if not isinstance(data, dict):
        raise SourceError(f"{what}: the manifest is not a JSON object", transient=False)
    media_type = str(data.get("mediaType", ""))
    if media_type in INDEX_TYPES or "manifests" in data:
        raise SourceError(
            f"{what}: {digest} is an image index (several platforms), not an artifact",
            hint="point at a chart or an artifact pushed with oras push, not a container image",
            transient=False,
        )
    layers = data.get("layers")
    if not isinstance(layers, list):
        raise SourceError(f"{what}: the manifest has no layers list", transient=False)
    artifact_type = data.get("artifactType")
    return Manifest(
        digest=digest,
        media_type=media_type,
        artifact_type=str(artifact_type) if artifact_type else None,
        config=_descriptor(data.get("config"), what),
        layers=tuple(_descriptor(layer, what) for layer in layers),
    )


class OciClient:
    """Reads one repository of a registry. Blocking; run it in a thread."""

    def __init__(
        self,
        repository: Repository,
        credentials: RepoCredentials | None = None,
        *,
        timeout: float = 60.0,
        downloader: Downloader | None = None,
    ) -> None:
        self.repository = repository
        self._http = downloader or Downloader(credentials)
        self._timeout = timeout

    def tags(self) -> list[str]:
        """Every tag of the repository, following the registry's pagination."""
        found: list[str] = []
        url: str | None = f"{self.repository.base}/tags/list?n=1000"
        for _page in range(100):
            if url is None:
                break
            response = self._http.get(
                url, Limits(MAX_TAGS_BYTES, self._timeout), what=f"tags of {self.repository}"
            )
            try:
                names = json.loads(response.body).get("tags") or []
            except (ValueError, AttributeError) as e:
                raise SourceError(f"tags of {self.repository}: the answer is not a tag list") from e
            found.extend(str(t) for t in names)
            url = _next_page(response, self.repository)
        return found

    def resolve(self, reference: str) -> str:
        """The manifest digest of a tag, a semver range over the tags, or a digest."""
        wanted = reference.strip()
        if DIGEST.match(wanted):
            return wanted
        if _TAG.match(wanted):
            try:
                return self.manifest(wanted).digest
            except NotFoundError as e:
                if not _is_range(wanted):
                    raise self._not_found(wanted) from e
        return self.manifest(self.best_tag(wanted)).digest

    def best_tag(self, text: str) -> str:
        """The highest tag that a semver range allows."""
        try:
            wanted = parse_range(text)
        except RangeError as e:
            raise SourceError(
                f"{self.repository}: {text!r} is neither a tag, a digest nor a semver range",
                hint="give a tag (1.2.3), a range (^1.2, >=1.0 <2) or a digest (sha256:...)",
                transient=False,
            ) from e
        tags = self.tags()
        best = wanted.best(tags)
        if best is None:
            raise self._not_found(text, tags)
        return best

    def _not_found(self, wanted: str, tags: list[str] | None = None) -> RevisionNotFoundError:
        tags = self.tags() if tags is None else tags
        shown = ", ".join(sorted(tags)[-10:]) or "none"
        return RevisionNotFoundError(
            f"{self.repository}: no tag matches {wanted!r}",
            hint=f"tags in the repository: {shown}",
        )

    def manifest(self, reference: str) -> Manifest:
        """The manifest at a tag or digest; by digest, its bytes must hash to it."""
        what = f"manifest {reference} of {self.repository}"
        response = self._get_manifest(reference, what)
        if DIGEST.match(reference) and response.sha256 != reference:
            raise _mismatch(what, reference, response.sha256)
        return parse_manifest(response.body, response.sha256, what)

    def digest(self, tag: str) -> str:
        """The digest of what ``tag`` points at now: a manifest, or an image index (the
        digest ``image@sha256:...`` pulls, whatever the platform)."""
        return self._get_manifest(tag, f"manifest {tag} of {self.repository}").sha256

    def _get_manifest(self, reference: str, what: str) -> Response:
        return self._http.get(
            f"{self.repository.base}/manifests/{quote(reference, safe=':')}",
            Limits(MAX_MANIFEST_BYTES, self._timeout),
            what=what,
            accept=MANIFEST_TYPES + INDEX_TYPES,
        )

    def blob(self, descriptor: Descriptor, max_bytes: int = MAX_ARTIFACT_BYTES) -> bytes:
        """A blob's bytes, verified against its descriptor's digest and size."""
        what = f"blob {descriptor.digest} of {self.repository}"
        if descriptor.size > max_bytes:
            raise _too_large(what, descriptor.size, max_bytes)
        response = self._http.get(
            f"{self.repository.base}/blobs/{descriptor.digest}",
            Limits(min(max_bytes, descriptor.size), self._timeout),
            what=what,
        )
        if response.sha256 != descriptor.digest:
            raise _mismatch(what, descriptor.digest, response.sha256)
        return response.body


def check_size(manifest: Manifest, limit: int, what: str) -> None:
    """Refuse an artifact whose layers add up to more than ``limit``, before downloading."""
    total = sum(layer.size for layer in manifest.layers)
    if total > limit:
        raise _too_large(what, total, limit)


def _too_large(what: str, size: int, limit: int) -> SourceError:
    return SourceError(
        f"{what}: declares {size} bytes ({size / 2**20:.1f} MiB), more than the limit of "
        f"{limit / 2**20:.0f} MiB; nothing was downloaded",
        hint="gitward pulls charts and manifests, not images; check the reference",
        transient=False,
    )


def _mismatch(what: str, expected: str, got: str) -> SourceError:
    return SourceError(
        f"{what}: the registry sent content whose digest is {got}, not {expected}; it was "
        "refused and not cached",
        hint="the registry or something between it and gitward altered the content",
        transient=False,
    )


def _is_range(text: str) -> bool:
    try:
        parse_range(text)
    except RangeError:
        return False
    return True


def _next_page(response: Response, repository: Repository) -> str | None:
    """The next page from a ``Link: </v2/...>; rel="next"`` header (same host only)."""
    link = response.headers.get("link", "")
    match = re.match(r'^<(/v2/[^>]+)>;\s*rel="?next"?', link)
    if not match:
        return None
    scheme = "http" if repository.plain_http else "https"
    return f"{scheme}://{repository.host}{match.group(1)}"


def list_tags(
    repository: str, credentials: RepoCredentials | None = None, *, plain_http: bool = False
) -> list[str]:
    """The tags of ``oci://host/name`` (or ``host/name``): for image automation."""
    return OciClient(parse_repository(repository, plain_http=plain_http), credentials).tags()


def tag_digest(
    repository: str,
    tag: str,
    credentials: RepoCredentials | None = None,
    *,
    plain_http: bool = False,
) -> str:
    """The digest ``host/name:tag`` points at: for image automation's digest pinning."""
    client = OciClient(parse_repository(repository, plain_http=plain_http), credentials)
    return client.digest(tag)
