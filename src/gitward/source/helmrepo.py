"""Helm chart repositories over HTTP(S): ``index.yaml``, versions, chart archives.

Before it: an Application with ``source.chart`` and an ``http(s)://`` ``repoURL``.
After it: :mod:`.registries` unpacks the archive (:mod:`.archive`) for the Helm
renderer.

A repository is an ``index.yaml`` listing every chart's versions, each with the
URLs of its ``.tgz`` and usually its sha256 ``digest``. The index is downloaded within
:data:`gitward.loading.MAX_TEXT_BYTES` and the time limit, parsed with the bounded
loader; a version is picked exactly or by semver range (:mod:`.semver`); the archive
is downloaded within :data:`MAX_CHART_BYTES` and refused if it does not hash to the
index's digest. Deprecated and pre-release versions follow the range rules (a range
never picks a pre-release unless it names one).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin

import yaml

from gitward.errors import RevisionNotFoundError, SourceError
from gitward.loading import MAX_TEXT_BYTES, load_one
from gitward.source.download import Downloader, Limits
from gitward.source.semver import RangeError, parse_range
from gitward.source.urls import scrub_text

MAX_CHART_BYTES = 16 * 1024 * 1024


@dataclass(frozen=True)
class ChartVersion:
    name: str
    version: str
    url: str  # absolute
    digest: str | None  # "sha256:<hex>" from the index, when it has one


def index_url(repo_url: str) -> str:
    return repo_url.rstrip("/") + "/index.yaml"


def fetch_index(http: Downloader, repo_url: str, timeout: float) -> dict[str, Any]:
    """The parsed ``index.yaml`` of ``repo_url``; a clear error naming it if it is bad."""
    url = index_url(repo_url)
    where = scrub_text(url)
    response = http.get(url, Limits(MAX_TEXT_BYTES, timeout), what=f"Helm repository index {where}")
    try:
        data = load_one(response.body.decode("utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as e:
        raise SourceError(
            f"Helm repository index {where} is not valid YAML: {e}",
            hint="the repository is broken or the URL is not a Helm repository "
            "(helm repo index builds index.yaml)",
            transient=False,
        ) from e
    if not isinstance(data, dict) or not isinstance(data.get("entries"), dict):
        raise SourceError(
            f"Helm repository index {where} has no 'entries' mapping",
            hint="check that repoURL is a Helm repository",
            transient=False,
        )
    return data


def chart_versions(index: dict[str, Any], repo_url: str, chart: str) -> list[ChartVersion]:
    """Every listed version of ``chart``, with absolute URLs."""
    entries = index["entries"].get(chart)
    if not isinstance(entries, list) or not entries:
        names = ", ".join(sorted(str(k) for k in index["entries"])[:20]) or "none"
        raise RevisionNotFoundError(
            f"chart {chart!r} is not in the Helm repository {scrub_text(repo_url)}",
            hint=f"charts there: {names}",
        )
    found = []
    for entry in entries:
        if not isinstance(entry, dict) or not entry.get("urls"):
            continue
        urls = entry["urls"]
        first = str(urls[0] if isinstance(urls, list) else urls)
        digest = entry.get("digest")
        found.append(
            ChartVersion(
                name=chart,
                version=str(entry.get("version", "")),
                url=urljoin(repo_url.rstrip("/") + "/", first),
                digest=f"sha256:{digest}" if isinstance(digest, str) and digest else None,
            )
        )
    return found


def pick_version(versions: list[ChartVersion], wanted: str, where: str) -> ChartVersion:
    """The exact version asked for, or the highest one a semver range allows."""
    text = wanted.strip() or "*"
    for candidate in versions:
        if candidate.version == text or candidate.version == text.removeprefix("v"):
            return candidate
    try:
        best = parse_range(text).best(v.version for v in versions)
    except RangeError as e:
        raise SourceError(
            f"{where}: version {wanted!r} is neither a listed version nor a semver range",
            hint="give a version (1.2.3) or a range (^1.2, >=1.0 <2, *)",
            transient=False,
        ) from e
    if best is None:
        listed = [v.version for v in versions][:10]  # indexes list the newest first
        raise RevisionNotFoundError(
            f"{where}: no version matches {wanted!r}",
            hint=f"versions listed: {', '.join(listed)}",
        )
    return next(v for v in versions if v.version == best)


def download_chart(http: Downloader, chart: ChartVersion, timeout: float) -> tuple[bytes, str]:
    """The chart archive and its digest, checked against the index's digest."""
    what = f"chart {chart.name} {chart.version} ({scrub_text(chart.url)})"
    response = http.get(chart.url, Limits(MAX_CHART_BYTES, timeout), what=what)
    if chart.digest is not None and response.sha256 != chart.digest:
        raise SourceError(
            f"{what}: the archive's digest is {response.sha256}, but the index lists "
            f"{chart.digest}; it was refused and not cached",
            hint="the repository is inconsistent (rebuild index.yaml) or the download "
            "was altered on the way",
            transient=False,
        )
    return response.body, response.sha256
