"""Plan stage (pure, no I/O): pair desired with live, diff, order into waves, prune.

Before: rendered objects from :mod:`gitward.render` and live state read by
:mod:`gitward.kube` (live objects and server-side-apply dry-run results). After:
:mod:`gitward.apply` executes the plan.

Modules, in the order the data flows: :mod:`.sync_annotations` (wave, hook, options),
:mod:`.pair`, :mod:`.normalize` (with :mod:`.managedfields` and :mod:`.pointer`),
:mod:`.diff`, :mod:`.prune`, :mod:`.order`, and :mod:`.build`, which strings them together.
"""

from gitward.plan.build import PlanOptions, build_plan
from gitward.plan.diff import diff, unified_diff
from gitward.plan.errors import EmptyDesiredStateError, InvalidAnnotationError, PlanError
from gitward.plan.normalize import normalize_pair
from gitward.plan.order import KIND_ORDER, kind_rank, order
from gitward.plan.pair import Pair, pair
from gitward.plan.prune import prune_steps

__all__ = [
    "KIND_ORDER",
    "EmptyDesiredStateError",
    "InvalidAnnotationError",
    "Pair",
    "PlanError",
    "PlanOptions",
    "build_plan",
    "diff",
    "kind_rank",
    "normalize_pair",
    "order",
    "pair",
    "prune_steps",
    "unified_diff",
]
