"""Credentials of the dev cluster: one static token and one kubeconfig per identity.

Each component has its own identity, so RBAC applies to the controllers as it does in a
real cluster; the admin (and kwok, which manages nodes) are in system:masters. Every
file here holds a secret and is written mode 0600.
"""

from __future__ import annotations

import json
import os
import secrets
from pathlib import Path

CLUSTER_NAME = "gitward-dev"

# identity -> (user name, groups) for the static token file
IDENTITIES: dict[str, tuple[str, tuple[str, ...]]] = {
    "admin": ("admin", ("system:masters",)),
    "kube-controller-manager": ("system:kube-controller-manager", ()),
    "kube-scheduler": ("system:kube-scheduler", ()),
    "kwok": ("kwok", ("system:masters",)),
}


def new_tokens() -> dict[str, str]:
    return {who: secrets.token_urlsafe(24) for who in IDENTITIES}


def write_token_file(path: Path, tokens: dict[str, str]) -> None:
    """kube-apiserver's ``--token-auth-file``: ``token,user,uid,"group,..."`` lines."""
    lines = []
    for who, token in tokens.items():
        user, groups = IDENTITIES[who]
        line = f"{token},{user},{who}-uid"
        if groups:
            line += ',"' + ",".join(groups) + '"'
        lines.append(line)
    write_private(path, "\n".join(lines) + "\n")


def write_kubeconfig(state_dir: Path, who: str, server: str, ca_cert: Path, token: str) -> Path:
    """The admin's kubeconfig is ``STATE/kubeconfig``; components' go to ``components/``."""
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [
            {
                "name": CLUSTER_NAME,
                "cluster": {"server": server, "certificate-authority": str(ca_cert)},
            }
        ],
        "users": [{"name": who, "user": {"token": token}}],
        "contexts": [
            {
                "name": CLUSTER_NAME,
                "context": {"cluster": CLUSTER_NAME, "user": who, "namespace": "default"},
            }
        ],
        "current-context": CLUSTER_NAME,
    }
    path = (
        state_dir / "kubeconfig"
        if who == "admin"
        else state_dir / "components" / f"{who}.kubeconfig"
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    write_private(path, json.dumps(config, indent=2) + "\n")
    return path


def write_private(path: Path, text: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write(text)
