"""Source stage: resolve a Git revision to a commit and expose its tree, cached by SHA.

Before: the Application's ``spec.source``. After: :mod:`gitward.render` reads the tree.
"""
