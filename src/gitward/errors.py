"""The one error tree of gitward.

Every error a user can see derives from :class:`GitwardError`. Adapters translate the
errors of third-party libraries at their boundary (``raise ... from e``) so that callers
never match on library types. Each error says whether it is *transient*, and the
controller acts on that alone (:func:`gitward.reconcile.decide.decide`): a transient
error is retried with exponential backoff (the app's ``syncPolicy.retry``, by default
5 s doubling to 180 s) for as long as it lasts; a permanent one is reported at once and
tried again only for a new commit, a changed declaration or a person's refresh or sync.

::

    GitwardError
    ├── ConfigError                bad flags, settings or declarations (permanent)
    │   └── InvalidPolicyError     a policy does not load, compile or evaluate (file, line)
    ├── ToolchainError             a required program is missing or failed to build
    ├── ControlPlaneError          the local dev cluster could not start or be reached
    │   └── ComponentStartError    one component died or never became ready
    ├── SourceError                Git: unreachable (transient), auth, unknown revision
    │   ├── RevisionNotFoundError  the branch, tag, SHA or semver range matched nothing
    │   ├── PathEscapeError        a path or symlink points outside the repository
    │   └── SignatureError         a commit is unsigned or not signed by a trusted key
    ├── RenderError                a manifest could not be turned into objects (file, line)
    │   ├── DuplicateObjectError   two sources render the same object
    │   └── DecryptionError        an encrypted file: no key for it, or tampered (MAC)
    ├── PolicyError                a policy refuses rendered objects (permanent)
    ├── KubeError                  the Kubernetes API refused or could not be reached
    │   ├── UnreachableError       no answer (transient)
    │   ├── ConflictError          another field manager owns a field we set
    │   ├── ImmutableFieldError    a field cannot change in place (replace to fix)
    │   └── UnknownKindError       the cluster serves no such group/kind
    ├── SyncError                  a sync as a whole failed (hooks, waves, timeouts)
    └── NotOwnerError              HA: this replica does not (or no longer) own the app

Messages follow one rule: say what failed, on which object, and what to do about it.
"""

from __future__ import annotations

from gitward.model.policy import Verdict


class GitwardError(Exception):
    """The root of every error gitward raises on purpose."""

    transient: bool = False

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.detail = message  # the message without the subject prefix, for tables
        self.hint = hint

    def __str__(self) -> str:
        if self.hint:
            return f"{self.message}\n  hint: {self.hint}"
        return self.message


class ConfigError(GitwardError):
    """A flag, setting or declaration is invalid. Retrying does not help."""


class InvalidPolicyError(ConfigError):
    """A policy file does not load or compile, or OPA cannot evaluate it; ``location`` is
    file:line. (A policy that *refuses* objects is not an error of the policy.)"""

    def __init__(
        self, message: str, *, location: str | None = None, hint: str | None = None
    ) -> None:
        super().__init__(f"{location}: {message}" if location else message, hint=hint)
        self.detail = message
        self.location = location


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


class SourceError(GitwardError):
    """A Git operation failed. Network failures are transient; the rest are not."""

    def __init__(
        self, message: str, *, hint: str | None = None, transient: bool | None = None
    ) -> None:
        super().__init__(message, hint=hint)
        if transient is not None:
            self.transient = transient


class RevisionNotFoundError(SourceError):
    """The requested branch, tag, commit or semver range matched nothing."""


class PathEscapeError(SourceError):
    """A path, or a symlink on the way to it, leads outside the repository."""


class SignatureError(SourceError):
    """A commit the app would deploy is unsigned, or not signed by a key it trusts.

    Permanent: the same commit never verifies later; a new commit or new keys are
    needed. ``sha`` and ``reason`` are kept apart so callers can name the app first.
    """

    def __init__(self, sha: str, reason: str, *, subject: str = "") -> None:
        prefix = f"{subject}: " if subject else ""
        super().__init__(
            f"{prefix}commit {sha} is refused: {reason}; nothing from it is applied",
            hint="sign the commit with a trusted key, or list the signer's public key in "
            "spec.source.verify",
            transient=False,
        )
        self.sha = sha
        self.reason = reason


class RenderError(GitwardError):
    """A manifest could not be rendered; ``location`` names the file and line."""

    def __init__(
        self, message: str, *, location: str | None = None, hint: str | None = None
    ) -> None:
        super().__init__(f"{location}: {message}" if location else message, hint=hint)
        self.location = location


class DuplicateObjectError(RenderError):
    """Two documents render to the same object; both sources are named."""


class DecryptionError(RenderError):
    """A SOPS-encrypted file could not be decrypted: no key matches one of its
    recipients, or its MAC does not match (changed after encryption). Never carries a
    decrypted value or a key; the whole render fails, so nothing is applied encrypted."""


class PolicyError(GitwardError):
    """A policy refuses some of the rendered objects; nothing was written. Retrying the
    same commit cannot help: fix the objects in Git or the policy. ``verdict`` holds
    every violation (a :class:`gitward.model.policy.Verdict`)."""

    def __init__(self, message: str, *, hint: str | None = None, verdict: Verdict) -> None:
        super().__init__(message, hint=hint)
        self.verdict = verdict


class KubeError(GitwardError):
    """The Kubernetes API refused a request or could not be reached.

    ``status`` is the HTTP status when there was an answer; ``subject`` names the object.
    """

    def __init__(
        self,
        message: str,
        *,
        subject: str | None = None,
        status: int | None = None,
        hint: str | None = None,
        transient: bool | None = None,
    ) -> None:
        super().__init__(f"{subject}: {message}" if subject else message, hint=hint)
        self.detail = message
        self.subject = subject
        self.status = status
        if transient is not None:
            self.transient = transient


class UnreachableError(KubeError):
    """The cluster did not answer: network, TLS, timeout. Retry later."""

    transient = True


class ConflictError(KubeError):
    """Server-side apply found fields owned by another manager."""

    def __init__(
        self,
        message: str,
        *,
        subject: str | None = None,
        managers: tuple[str, ...] = (),
        fields: tuple[str, ...] = (),
    ) -> None:
        super().__init__(
            message,
            subject=subject,
            status=409,
            hint="another controller or a person owns these fields; remove them from Git, "
            "or take them over with --force-conflicts",
        )
        self.managers = managers
        self.fields = fields


class ImmutableFieldError(KubeError):
    """A field that cannot change in place would change."""


class UnknownKindError(KubeError):
    """The cluster serves no resource of this group and kind."""


class SyncError(GitwardError):
    """A sync failed as a whole (a hook failed, a wave never became healthy, ...)."""


class NotOwnerError(GitwardError):
    """High availability: this replica may not sync the app now (docs/ha.md).

    Its Lease is lost or expired, the app hashes to another replica, or another live
    replica still holds the app in the store. Nothing was written. ``retry_after``
    says when to try again (the app should soon be this replica's), None: never, the
    app is another replica's.
    """

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after
