"""Tool resolution: cache keys follow versions, missing Go is explained, not a traceback."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from gitward.devcluster import toolchain
from gitward.devcluster.toolchain import GoInfo, Toolchain, tool_spec
from gitward.errors import ToolchainError


def fixed(tmp_path: Path, go_version: str = "go1.26.8") -> Toolchain:
    chain = Toolchain(cache_dir=tmp_path)
    chain._go = GoInfo("/nonexistent/go", go_version)
    return chain


def test_cache_directory_changes_with_tool_and_go_versions(tmp_path: Path) -> None:
    helm = tool_spec("helm")
    newer = dataclasses.replace(helm, version="v3.99.0")
    base = fixed(tmp_path).tool_dir(helm)

    assert fixed(tmp_path).tool_dir(helm) == base  # stable
    assert fixed(tmp_path).tool_dir(newer) != base
    assert fixed(tmp_path, "go1.27.0").tool_dir(helm) != base
    assert base.parent == tmp_path / "tools"


def test_kubernetes_tools_are_keyed_by_our_go_module(tmp_path: Path) -> None:
    name = fixed(tmp_path).tool_dir(tool_spec("kube-apiserver")).name
    assert name.startswith(f"kube-apiserver-{toolchain.KUBERNETES_VERSION}-go1.26.8-")
    assert (toolchain.k8s_module_dir() / "go.sum").is_file()


def test_kubernetes_version_ldflags_match_the_pin() -> None:
    flags = tool_spec("kubectl").ldflags
    assert f"-X=k8s.io/component-base/version.gitVersion={toolchain.KUBERNETES_VERSION}" in flags
    assert "-X=k8s.io/client-go/pkg/version.gitMinor=36" in flags


def test_missing_tools_are_reported_without_building(tmp_path: Path) -> None:
    chain = fixed(tmp_path)
    assert chain.missing(["kubectl", "helm"]) == ["kubectl", "helm"]
    with pytest.raises(ToolchainError, match="kubectl is not built yet"):
        chain.path("kubectl")


def test_unknown_tool_names_the_known_ones() -> None:
    with pytest.raises(ToolchainError) as error:
        tool_spec("kubelet")
    assert "kube-apiserver" in str(error.value)


def test_missing_go_says_how_to_install_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GITWARD_GO", "")
    monkeypatch.setenv("PATH", "/nonexistent")
    monkeypatch.setattr(toolchain, "_usual_go_location", lambda: None)
    with pytest.raises(ToolchainError) as error:
        toolchain.find_go()
    assert "Go toolchain was not found" in error.value.message
    assert error.value.hint is not None
    assert "GITWARD_GO" in error.value.hint


def test_too_old_go_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake_go = tmp_path / "go"
    fake_go.write_text("#!/bin/sh\necho go1.19.8\n")
    fake_go.chmod(0o755)
    monkeypatch.setenv("GITWARD_GO", str(fake_go))
    with pytest.raises(ToolchainError, match=r"Go go1\.19\.8 .* is too old"):
        toolchain.find_go()
