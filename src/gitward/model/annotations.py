"""Annotations and labels gitward reads and writes on objects.

gitward reads Argo CD's annotations of the same meaning, so manifests written for Argo
CD keep working unchanged; its own take precedence when both are present.
"""

from __future__ import annotations

# Written by gitward on every object it applies: "<app>:<group>/<kind>:<namespace>/<name>".
TRACKING = "gitward.dev/tracking-id"
# Written by gitward: the app name, as a label so the cluster can be queried by app.
APP_LABEL = "gitward.dev/app"
# Written by gitward on hooks named by the server (generateName): the same value on every
# run of one hook, so BeforeHookCreation finds the objects of earlier runs by label.
HOOK_ID_LABEL = "gitward.dev/hook-id"
# Written by gitward: a hash of the body it applied, so an unchanged desired state is
# recognised on the live object itself without a dry-run.
DESIRED_HASH = "gitward.dev/desired-hash"

SYNC_WAVE = ("gitward.dev/sync-wave", "argocd.argoproj.io/sync-wave")
HOOK = ("gitward.dev/hook", "argocd.argoproj.io/hook")
HOOK_DELETE_POLICY = ("gitward.dev/hook-delete-policy", "argocd.argoproj.io/hook-delete-policy")
# "Prune=false" keeps an object in the cluster when Git drops it.
SYNC_OPTIONS = ("gitward.dev/sync-options", "argocd.argoproj.io/sync-options")
COMPARE_OPTIONS = ("gitward.dev/compare-options", "argocd.argoproj.io/compare-options")
# Helm's own hook annotations are mapped to phases too.
HELM_HOOK = "helm.sh/hook"
HELM_HOOK_DELETE_POLICY = "helm.sh/hook-delete-policy"
HELM_HOOK_WEIGHT = "helm.sh/hook-weight"
