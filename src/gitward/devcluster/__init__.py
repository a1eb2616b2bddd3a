"""A local Kubernetes control plane built from Go modules, for development and tests.

Not part of the sync pipeline: it is the ground the pipeline is tested on. The binaries
come from :mod:`gitward.toolchain`; ``cluster`` starts and stops them.
"""

from gitward.devcluster.cluster import ClusterState, ClusterStatus, ControlPlane

__all__ = ["ClusterState", "ClusterStatus", "ControlPlane"]
