"""The only package that talks HTTP to Kubernetes: discovery, apply, read, delete, watch.

It implements the ``Cluster`` port; library errors are translated into
:class:`gitward.errors.KubeError` here and nowhere else.
"""
