"""The web UI of ``gitward serve``: server-rendered pages, live rows, sign-in, roles.

:mod:`~gitward.ui.server` starts it on its own listener; :mod:`~gitward.ui.app` builds
the Starlette app; :mod:`~gitward.ui.pages` and :mod:`~gitward.ui.actions` are what a
person sees and does; :mod:`~gitward.ui.listing` and :mod:`~gitward.ui.details` compute
what pages show; :mod:`~gitward.ui.live` drives live updates; :mod:`~gitward.ui.sessions`
and :mod:`~gitward.ui.oidc` sign people in. See docs/ui.md.
"""
