"""The API's cluster tests drive a real ``gitward serve`` with the fixtures of tests/serve."""

from tests.serve.conftest import cluster, repo, serve

__all__ = ["cluster", "repo", "serve"]
