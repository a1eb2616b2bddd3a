"""Policies and manifests shared by the policy tests, so that `validate` and `sync` are
checked against the very same rules and messages."""

from __future__ import annotations

NO_LATEST_REGO = """\
package kubernetes.images

deny contains msg if {
	some c in input.spec.template.spec.containers
	endswith(c.image, ":latest")
	msg := sprintf("container %q uses the :latest tag", [c.name])
}
"""

LIMITS_REGO = """\
package kubernetes.limits

deny_no_limits contains msg if {
	input.kind == "Deployment"
	some c in input.spec.template.spec.containers
	not c.resources.limits
	msg := sprintf(
		"container %q of Deployment %s has no resource limits",
		[c.name, input.metadata.name],
	)
}
"""

TEAM_LABEL_REGO = """\
package kubernetes.labels

warn_team contains msg if {
	input.kind == "Deployment"
	not input.metadata.labels.team
	msg := sprintf("Deployment %s has no team label", [input.metadata.name])
}
"""

MAX_REPLICAS_VAP = """\
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicy
metadata:
  name: max-replicas
spec:
  matchConstraints:
    resourceRules:
      - apiGroups: [apps]
        apiVersions: [v1]
        operations: [CREATE, UPDATE]
        resources: [deployments]
  validations:
    - expression: "!has(object.spec.replicas) || object.spec.replicas <= 3"
      messageExpression: "'at most 3 replicas, got ' + string(object.spec.replicas)"
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicyBinding
metadata:
  name: max-replicas
spec:
  policyName: max-replicas
  validationActions: [Deny]
"""

NO_CLUSTER_ROLES_PROJECT = """\
apiVersion: argoproj.io/v1alpha1
kind: AppProject
metadata:
  name: team
  namespace: argocd
spec:
  sourceRepos: ['*']
  destinations:
    - server: '*'
      namespace: 'team-*'
  clusterResourceWhitelist:
    - {group: '', kind: Namespace}
"""


def deployment(
    name: str, image: str, *, limits: bool = True, replicas: int = 1, team: str | None = "a"
) -> str:
    labels = f"\n  labels: {{team: {team}}}" if team else ""
    resources = "\n          resources: {limits: {cpu: 100m, memory: 64Mi}}" if limits else ""
    return f"""\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {name}{labels}
spec:
  replicas: {replicas}
  selector: {{matchLabels: {{app: {name}}}}}
  template:
    metadata: {{labels: {{app: {name}}}}}
    spec:
      containers:
        - name: app
          image: {image}{resources}
"""
