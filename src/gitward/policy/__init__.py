"""The policy stage: checks between render and plan, the same in CI and in the controller.

``load`` reads policy files (Rego modules, ValidatingAdmissionPolicies and bindings,
AppProjects) into a ``set.PolicySet``; ``set.PolicyChecker`` turns an app's rendered
objects into a :class:`~gitward.model.policy.Verdict`. ``rego``, ``cel`` and ``project``
hold the three kinds of rule, ``schema`` the OpenAPI validation `gitward validate` adds,
``catalog`` the offline knowledge of kinds. All pure except ``opa``, the adapter that
runs the real OPA (see the import-linter contracts in pyproject.toml).
"""
