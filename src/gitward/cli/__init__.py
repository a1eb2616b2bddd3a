"""The `gitward` command: the surface for people and CI jobs."""
