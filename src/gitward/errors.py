"""The one error tree of gitward.

Every error a user can see derives from :class:`GitwardError`. Adapters translate the
errors of third-party libraries at their boundary (``raise ... from e``) so that callers
never match on library types. Each error says whether it is *transient*: the reconcile
loop retries transient errors with backoff and reports permanent ones at once.

::

    GitwardError
    ├── ConfigError              bad flags, settings or declarations (permanent)
    ├── ToolchainError           a required program is missing or failed to build
    └── ControlPlaneError        the local dev cluster could not start or be reached
        └── ComponentStartError  one component died or never became ready

Messages follow one rule: say what failed, on which object, and what to do about it.
"""

from __future__ import annotations


class GitwardError(Exception):
    """The root of every error gitward raises on purpose."""

    transient: bool = False

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        if self.hint:
            return f"{self.message}\n  hint: {self.hint}"
        return self.message


class ConfigError(GitwardError):
    """A flag, setting or declaration is invalid. Retrying does not help."""


class ToolchainError(GitwardError):
    """A program gitward needs (go, kubectl, helm, ...) is missing or failed to build."""


class ControlPlaneError(GitwardError):
    """The local development control plane could not be started, reached or stopped."""

    transient = True


class ComponentStartError(ControlPlaneError):
    """One component of the control plane exited or did not become ready in time.

    Carries the component name and the tail of its log so the user sees why.
    """

    def __init__(self, component: str, reason: str, log_tail: str, log_path: str) -> None:
        tail = "\n".join(f"    | {line}" for line in log_tail.splitlines())
        tail = tail or "    | (the log is empty)"
        super().__init__(
            f"{component} failed to start: {reason}\n  last lines of {log_path}:\n{tail}",
            hint=f"read the whole log at {log_path}; `gitward dev-cluster down` cleans up",
        )
        self.component = component
        self.reason = reason
        self.log_path = log_path
