"""Test helpers shared by the whole suite: waiting for events, faulty servers and proxies."""
