"""gitward: a GitOps engine. Git holds the desired state; gitward makes clusters match it.

The data flow (see docs/concepts.md): source -> render -> policy -> plan -> apply -> observe,
driven by the reconcile loop. Each stage is a subpackage; `model` holds the values they pass.
"""

__version__ = "0.1.0.dev0"
