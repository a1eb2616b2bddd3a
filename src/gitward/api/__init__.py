"""The HTTP surface: API, webhooks, auth, metrics.

Before: the controller (:mod:`gitward.reconcile`) owns the applications this surface
shows and acts on. After: people, CI jobs and Git providers, over HTTP.

This package holds the pure parts the HTTP server calls: :mod:`.webhooks` verifies and
parses Git push notifications, :mod:`.repo_urls` makes repository URLs comparable,
:mod:`.auth` checks bearer tokens and roles, and :mod:`.errors` names every refusal with
the HTTP status the server answers with.
"""
