"""The dev cluster's components as data: loopback only, ordered, credentials kept private."""

from __future__ import annotations

import re
import stat
from pathlib import Path

from gitward.devcluster import kubeconfig
from gitward.devcluster.components import (
    COMPONENTS,
    PORTS,
    PROFILES,
    Wiring,
    profile_components,
)
from gitward.devcluster.pki import Pki


def wiring(tmp_path: Path) -> Wiring:
    pki = Pki(*(tmp_path / name for name in ("ca", "ca-key", "crt", "key", "sa.pub", "sa")))
    ports = {name: 20000 + i for i, name in enumerate(PORTS)}
    configs = {who: tmp_path / f"{who}.kubeconfig" for who in kubeconfig.IDENTITIES}
    return Wiring(tmp_path, ports, pki, configs, "admin-token")


def test_every_listener_binds_loopback_only(tmp_path: Path) -> None:
    w = wiring(tmp_path)
    for component in COMPONENTS:
        args = component.args(w)
        for arg in args:
            if arg.startswith("--service-account-issuer="):
                continue  # a name in tokens, not an address anything listens on
            for host in re.findall(r"(?:https?://|address=)([^:/,\s]+)", arg):
                assert host == "127.0.0.1", (component.name, arg)
        if component.name != "kwok":  # kwok serves nothing; it only talks to the apiserver
            assert any(a.startswith(("--bind-address=127.0.0.1", "--listen-client")) for a in args)


def test_each_component_gets_its_own_port_and_kubeconfig(tmp_path: Path) -> None:
    w = wiring(tmp_path)
    for name in ("kube-controller-manager", "kube-scheduler"):
        args = next(c for c in COMPONENTS if c.name == name).args(w)
        assert f"--secure-port={w.ports[name]}" in args
        assert f"--kubeconfig={tmp_path / f'{name}.kubeconfig'}" in args


def test_profiles_start_etcd_then_the_apiserver_and_wait_for_each() -> None:
    light = profile_components("light")
    full = profile_components("full")
    assert [c.name for c in light] == ["etcd", "kube-apiserver"]
    assert [c.name for c in full[:2]] == ["etcd", "kube-apiserver"]
    assert all(c.ready_before_next for c in full[:2])
    assert set(PROFILES["full"]) == {c.name for c in COMPONENTS}


def test_tokens_and_kubeconfigs_are_private_and_name_each_identity(tmp_path: Path) -> None:
    tokens = kubeconfig.new_tokens()
    kubeconfig.write_token_file(tmp_path / "tokens.csv", tokens)
    config = kubeconfig.write_kubeconfig(
        tmp_path, "kube-scheduler", "https://127.0.0.1:1", tmp_path / "ca", tokens["kube-scheduler"]
    )
    lines = (tmp_path / "tokens.csv").read_text().splitlines()
    assert f"{tokens['kube-scheduler']},system:kube-scheduler,kube-scheduler-uid" in lines
    assert f'{tokens["admin"]},admin,admin-uid,"system:masters"' in lines
    assert config == tmp_path / "components" / "kube-scheduler.kubeconfig"
    for path in (tmp_path / "tokens.csv", config):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
