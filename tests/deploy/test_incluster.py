"""In-cluster configuration: detection and the projected token's rotation."""

from __future__ import annotations

import os
from pathlib import Path

import httpx2 as httpx
import pytest

from gitward.errors import ConfigError
from gitward.kube.incluster import InClusterConfig, RotatingToken


def _account(tmp_path: Path, namespace: str | None = "apps") -> Path:
    (tmp_path / "token").write_text("first\n")
    (tmp_path / "ca.crt").write_text("not used here")
    if namespace is not None:
        (tmp_path / "namespace").write_text(namespace)
    return tmp_path


def test_outside_a_pod_there_is_no_in_cluster_config(tmp_path: Path) -> None:
    assert InClusterConfig.detect({}, _account(tmp_path)) is None


def test_a_pod_is_detected_from_its_environment_and_files(tmp_path: Path) -> None:
    env = {"KUBERNETES_SERVICE_HOST": "10.0.0.1", "KUBERNETES_SERVICE_PORT": "443"}
    pod = InClusterConfig.detect(env, _account(tmp_path))
    assert pod is not None
    assert pod.server == "https://10.0.0.1:443"
    assert pod.namespace == "apps"
    v6 = InClusterConfig.detect({**env, "KUBERNETES_SERVICE_HOST": "fd00::1"}, tmp_path)
    assert v6 is not None
    assert v6.server == "https://[fd00::1]:443"


def test_a_missing_token_is_a_clear_error(tmp_path: Path) -> None:
    env = {"KUBERNETES_SERVICE_HOST": "10.0.0.1", "KUBERNETES_SERVICE_PORT": "443"}
    with pytest.raises(ConfigError, match="token is missing"):
        InClusterConfig.detect(env, tmp_path)


def test_a_rotated_token_is_used_from_the_next_request_on(tmp_path: Path) -> None:
    _account(tmp_path)
    now = [0.0]
    auth = RotatingToken(tmp_path / "token", monotonic=lambda: now[0])
    request = httpx.Request("GET", "https://api.test/api")
    assert next(auth.auth_flow(request)).headers["Authorization"] == "Bearer first"
    # The kubelet swaps the file (a new inode through its ..data link): read at once.
    replacement = tmp_path / "token.new"
    replacement.write_text("second")
    replacement.replace(tmp_path / "token")
    assert next(auth.auth_flow(request)).headers["Authorization"] == "Bearer second"


def test_the_token_is_read_again_every_minute_even_if_the_file_looks_unchanged(
    tmp_path: Path,
) -> None:
    _account(tmp_path)
    now = [0.0]
    auth = RotatingToken(tmp_path / "token", monotonic=lambda: now[0])
    assert auth.current() == "first"
    stat = (tmp_path / "token").stat()
    (tmp_path / "token").write_text("third")
    os.utime(tmp_path / "token", ns=(stat.st_atime_ns, stat.st_mtime_ns))  # same mtime
    now[0] = 30.0
    assert auth.current() == "first"
    now[0] = 61.0
    assert auth.current() == "third"
