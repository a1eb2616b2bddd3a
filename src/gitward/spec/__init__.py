"""Declarations: parse ``Application`` documents (gitward's and Argo CD's) into AppSpec."""
