"""The apply tests run the real engine against the real control plane (engine fixtures)."""

from tests.engine.conftest import cluster, engine, repo

__all__ = ["cluster", "engine", "repo"]
