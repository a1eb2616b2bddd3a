"""Values passed between gitward's stages: frozen dataclasses and enums, stdlib only.

Nothing in this package performs I/O or imports anything outside the standard library.
"""

from gitward.model.app import (
    AppSpec,
    Destination,
    DirectoryOptions,
    HealthRule,
    HelmOptions,
    IgnoreDifferences,
    KustomizeOptions,
    LayerOperation,
    LayerSelector,
    RendererKind,
    RepoCredentials,
    RetryPolicy,
    SourceKind,
    SourceSpec,
    SyncOption,
    SyncPolicy,
)
from gitward.model.discovery import ApiResource
from gitward.model.health import HEALTHY, NOTHING_DEPLOYED, Health, HealthStatus, worst
from gitward.model.keys import Decryption, DecryptionKeys
from gitward.model.plan import (
    PHASE_ORDER,
    Action,
    Change,
    ChangeSet,
    FieldChange,
    HookDeletePolicy,
    Outcome,
    Phase,
    Plan,
    Step,
)
from gitward.model.resource import (
    GroupKind,
    JsonObject,
    Resource,
    ResourceKey,
    SourceLocation,
    split_api_version,
)
from gitward.model.revision import Revision

__all__ = [
    "HEALTHY",
    "NOTHING_DEPLOYED",
    "PHASE_ORDER",
    "Action",
    "ApiResource",
    "AppSpec",
    "Change",
    "ChangeSet",
    "Decryption",
    "DecryptionKeys",
    "Destination",
    "DirectoryOptions",
    "FieldChange",
    "GroupKind",
    "Health",
    "HealthRule",
    "HealthStatus",
    "HelmOptions",
    "HookDeletePolicy",
    "IgnoreDifferences",
    "JsonObject",
    "KustomizeOptions",
    "LayerOperation",
    "LayerSelector",
    "Outcome",
    "Phase",
    "Plan",
    "RendererKind",
    "RepoCredentials",
    "Resource",
    "ResourceKey",
    "RetryPolicy",
    "Revision",
    "SourceKind",
    "SourceLocation",
    "SourceSpec",
    "Step",
    "SyncOption",
    "SyncPolicy",
    "split_api_version",
    "worst",
]
