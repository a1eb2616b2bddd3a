"""The refusals of the HTTP surface, each carrying the status the server answers with.

They join the one error tree of :mod:`gitward.errors` so the CLI and logs treat them like
any other error, while the server maps them to a response by ``status`` alone instead of
by matching types::

    GitwardError
    └── ApiError                   a request is refused; ``status`` is the HTTP status
        ├── WebhookAuthError       401: a webhook's signature or token is missing or wrong
        ├── WebhookPayloadError    400: a verified webhook body is not what it claims to be
        ├── AuthError              401: no valid bearer token
        ├── ForbiddenError         403: a valid token whose roles do not allow the action
        └── BodyTooLargeError      413: a body over the endpoint's limit (not read to the end)

Problems with token files on disk are :class:`gitward.errors.ConfigError`: they stop the
server from starting rather than refuse one request.

Messages never contain a secret, a token or an expected signature: they are logged and
may be returned to the caller.
"""

from __future__ import annotations

from gitward.errors import GitwardError


class ApiError(GitwardError):
    """A request to the HTTP surface is refused. Retrying the same request does not help."""

    status: int = 400


class WebhookAuthError(ApiError):
    """A webhook could not be proven to come from the Git provider holding the secret."""

    status = 401


class WebhookPayloadError(ApiError):
    """A webhook passed verification but its body is malformed or lacks a needed field."""

    status = 400


class AuthError(ApiError):
    """The request carries no bearer token, or one gitward does not know."""

    status = 401


class ForbiddenError(ApiError):
    """The caller is known, but none of its roles allows the requested action."""

    status = 403


class BodyTooLargeError(ApiError):
    """The request body is larger than the endpoint accepts; it was not read to the end."""

    status = 413
