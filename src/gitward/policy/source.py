"""Policies for the controller: files given at start, plus a path in Git read per sync.

``gitward serve --policy PATH`` loads local files once; ``--policy-path DIR`` names a
folder of the config repository, so a policy change is a commit that goes through the
same pull requests as the apps. The folder is read at the commit the config revision
points to when a sync is checked, and reloaded only when that commit changes; the
OPA server is kept per policy set (:class:`~gitward.policy.opa.OpaPool`), so an
unchanged set costs nothing more. Projects come from the declarations the controller
loaded last. Implements :class:`gitward.ports.PolicyCheck`.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from gitward.model import AppSpec, RepoCredentials, Resource
from gitward.model.policy import Verdict
from gitward.model.project import ProjectSpec
from gitward.paths import confine
from gitward.policy.load import load_policies
from gitward.policy.rego import RegoBackend
from gitward.policy.set import PolicyChecker, PolicySet
from gitward.ports import GitSource


@dataclass(frozen=True)
class GitPolicyPath:
    """A folder of policies in a Git repository, followed at ``revision``."""

    repo_url: str
    path: str
    revision: str = "HEAD"
    credentials: RepoCredentials | None = None


class PolicySource:
    """A PolicyCheck over local policies, a Git policy path and the declared projects."""

    def __init__(
        self,
        local: PolicySet,
        backend: Callable[[], RegoBackend],
        *,
        git: GitSource | None = None,
        in_git: GitPolicyPath | None = None,
        projects: Callable[[], Mapping[str, ProjectSpec]] = dict,
    ) -> None:
        self.local = local
        self._backend_factory = backend
        self._backend: RegoBackend | None = None
        self.git = git
        self.in_git = in_git
        self.projects = projects
        self._loaded: tuple[str, PolicySet] | None = None  # (commit, policies from Git)
        self._lock = threading.Lock()

    def current(self) -> PolicySet:
        """The policies in force now: local ones plus the Git path at its latest commit."""
        policies = self.local
        if self.in_git is not None and self.git is not None:
            policies = policies.merged(self._from_git(self.git, self.in_git))
        return policies.with_projects(self.projects())

    def _from_git(self, git: GitSource, where: GitPolicyPath) -> PolicySet:
        revision = git.resolve(where.repo_url, where.revision, where.credentials)
        with self._lock:
            if self._loaded is not None and self._loaded[0] == revision.sha:
                return self._loaded[1]
            tree = git.checkout(revision, where.credentials)
            folder = confine(tree, where.path, what="policy path")
            loaded = load_policies([folder], root=tree)
            self._loaded = (revision.sha, loaded)
            return loaded

    def check(self, app: AppSpec, resources: Sequence[Resource]) -> Verdict:
        policies = self.current()
        backend = self._rego() if policies.rego is not None else None
        return PolicyChecker(policies, backend).check(app, resources)

    def _rego(self) -> RegoBackend:
        with self._lock:
            if self._backend is None:
                self._backend = self._backend_factory()
            return self._backend

    def close(self) -> None:
        if self._backend is not None:
            self._backend.close()
