"""Installing gitward into a cluster: its chart, rendered manifests, and bootstrap."""
