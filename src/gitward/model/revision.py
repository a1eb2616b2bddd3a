"""A Git revision as asked for and as resolved."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Revision:
    repo_url: str  # without credentials, safe to log
    requested: str  # what was asked: a branch, tag, SHA, semver range or HEAD
    sha: str  # the full commit SHA it resolved to

    @property
    def short(self) -> str:
        return self.sha[:12]

    def __str__(self) -> str:
        return f"{self.requested} ({self.short})" if self.requested != self.sha else self.short
