"""Fixtures for the notification tests: the serve fixture and its Git repository."""

from __future__ import annotations

from tests.serve.conftest import GitRepo, cluster, repo, serve

__all__ = ["GitRepo", "cluster", "repo", "serve"]  # shared fixtures
