"""The serve fixtures of tests/serve, shared: ApplicationSets run under ``gitward serve``."""

from tests.serve.conftest import cluster, repo, serve

__all__ = ["cluster", "repo", "serve"]
