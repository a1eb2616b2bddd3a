"""Image automation as declared: which registry repositories to scan, how to pick the
newest tag, and where in Git to write it (Flux's ImageRepository, ImagePolicy and
ImageUpdateAutomation, same meaning).

Before: :mod:`gitward.spec.images` parses the documents. After: :mod:`gitward.imageauto`
lists tags, selects (:mod:`gitward.imageauto.policy`), edits files
(:mod:`gitward.imageauto.setters`), commits and pushes (:mod:`gitward.imageauto.git`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

DEFAULT_EXCLUSIONS = (r"^.*\.sig$",)  # cosign signatures are tags too; never images


class PolicyKind(StrEnum):
    SEMVER = "semver"
    ALPHABETICAL = "alphabetical"
    NUMERICAL = "numerical"


class DigestReflection(StrEnum):
    """When the selected tag's digest is looked up (Flux's ``digestReflectionPolicy``):
    ``Never``; ``IfNotPresent``, once per selected tag; ``Always``, at every round (a
    tag moved to another image is followed)."""

    NEVER = "Never"
    IF_NOT_PRESENT = "IfNotPresent"
    ALWAYS = "Always"


class Order(StrEnum):
    """``asc`` picks the last tag in ascending order (the highest), ``desc`` the first."""

    ASC = "asc"
    DESC = "desc"


@dataclass(frozen=True)
class TagFilter:
    """Only tags matching ``pattern`` count; ``extract`` (``$name``, ``${1}``) is the part
    compared, from the pattern's groups. The selected tag is always the whole tag."""

    pattern: str
    extract: str = ""


@dataclass(frozen=True)
class ImageRepo:
    """An image repository in a registry to list tags of (Flux's ImageRepository)."""

    namespace: str
    name: str
    image: str  # host[:port]/path, no tag
    interval: float = 300.0
    plain_http: bool = False  # Flux's spec.insecure: a registry without TLS
    # A Secret in the ImageRepository's namespace with the registry's credentials: a
    # docker-registry one (.dockerconfigjson), or username and password keys.
    secret_name: str | None = None
    # A Secret in the same namespace whose ca.crt is the registry's private CA.
    cert_secret_name: str | None = None
    exclusions: tuple[str, ...] = DEFAULT_EXCLUSIONS
    origin: str = ""

    @property
    def ref(self) -> str:
        return f"{self.namespace}/{self.name}"


@dataclass(frozen=True)
class ImagePolicy:
    """How to choose the newest tag of a repository (Flux's ImagePolicy)."""

    namespace: str
    name: str
    repository: str  # "namespace/name" of the ImageRepo
    kind: PolicyKind
    semver_range: str = ""
    order: Order = Order.ASC
    filter: TagFilter | None = None
    origin: str = ""
    digest_reflection: DigestReflection = DigestReflection.NEVER

    @property
    def marker(self) -> str:
        """How setter comments name it: ``namespace:name`` (Flux's form)."""
        return f"{self.namespace}:{self.name}"


@dataclass(frozen=True)
class UpdateAutomation:
    """Where and how selected tags are written back to Git (Flux's ImageUpdateAutomation).

    ``repo_url`` and ``checkout_branch`` come from the ``sourceRef`` (a Flux
    GitRepository or a gitward Application); ``push_branch`` defaults to the checkout
    branch (a different one prepares a pull request). ``path`` limits the files edited.
    """

    namespace: str
    name: str
    repo_url: str
    checkout_branch: str
    push_branch: str
    path: str = "."
    author_name: str = "gitward"
    author_email: str = "gitward@localhost"
    message_template: str = ""
    interval: float = 300.0
    suspend: bool = False
    origin: str = ""


@dataclass(frozen=True)
class ImageAutomation:
    """Every image declaration of a config location, cross-checked."""

    repositories: dict[str, ImageRepo] = field(default_factory=dict)  # by "ns/name"
    policies: dict[str, ImagePolicy] = field(default_factory=dict)  # by "ns:name"
    automations: tuple[UpdateAutomation, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.automations or self.policies)
