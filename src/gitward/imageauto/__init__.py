"""Image automation: new image tags in a registry written back to Git (Flux's
ImageRepository + ImagePolicy + ImageUpdateAutomation).

Modules, in data-flow order: :mod:`.policy` (pure: which tag is newest),
:mod:`.setters` (pure: edit marked YAML scalars in place), :mod:`.message` (pure:
commit messages from Flux's templates), :mod:`.git` (the adapter: commit and push,
rebased on a race, never forced), :mod:`.scan` (a round, and the periodic task of
``gitward serve``). Declarations are parsed by :mod:`gitward.spec.images`.
"""
