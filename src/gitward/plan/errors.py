"""Errors raised by the plan stage: a manifest's annotations are invalid, or a plan
would do something dangerous that the user did not allow (prune everything)."""

from __future__ import annotations

from gitward.errors import GitwardError


class PlanError(GitwardError):
    """The plan cannot be built from these inputs. Permanent: fix Git or the options."""


class InvalidAnnotationError(PlanError):
    """An annotation on an object has a value gitward cannot read (e.g. sync-wave "one")."""


class EmptyDesiredStateError(PlanError):
    """Git renders nothing while the cluster holds objects of the app: refusing to prune all."""
