"""The engine fixtures (a real Git repository, an Engine on the dev cluster) for these tests."""

from tests.engine.conftest import cluster, engine, repo

__all__ = ["cluster", "engine", "repo"]
