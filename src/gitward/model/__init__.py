"""Values passed between gitward's stages: frozen dataclasses and enums, stdlib only.

The types of the sync engine (ResourceKey, Resource, Plan, ChangeSet, ...) live here as
they are introduced; nothing in this package performs I/O.
"""
