"""A local Kubernetes control plane built from Go modules, for development and tests.

Not part of the sync pipeline: it is the ground the pipeline is tested on. ``toolchain``
builds the pinned binaries into a user cache; ``cluster`` starts and stops them.
"""

from gitward.devcluster.cluster import ClusterState, ClusterStatus, ControlPlane
from gitward.devcluster.toolchain import KUBERNETES_VERSION, Toolchain

__all__ = ["KUBERNETES_VERSION", "ClusterState", "ClusterStatus", "ControlPlane", "Toolchain"]
