"""Declarations: parse ``Application`` documents (gitward's and Argo CD's) into AppSpec."""

from gitward.spec.application import API_VERSIONS, parse_application

__all__ = ["API_VERSIONS", "parse_application"]
