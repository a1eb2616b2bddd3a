"""Tool resolution: cache keys follow versions, missing Go is explained, not a traceback."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from gitward.errors import ToolchainError
from gitward.toolchain import (
    KUBERNETES_VERSION,
    TOOLS,
    GoInfo,
    Tool,
    Toolchain,
    find_go,
    module_dir,
    tool_spec,
)
from gitward.toolchain import go as gofind


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
    assert name.startswith(f"kube-apiserver-{KUBERNETES_VERSION}-go1.26.8-")
    assert (module_dir("k8s") / "go.sum").is_file()


def test_kubernetes_version_ldflags_match_the_pin() -> None:
    flags = tool_spec("kubectl").ldflags
    assert f"-X=k8s.io/component-base/version.gitVersion={KUBERNETES_VERSION}" in flags
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
    monkeypatch.setattr(gofind, "_usual_go_location", lambda: None)
    with pytest.raises(ToolchainError) as error:
        find_go()
    assert "Go toolchain was not found" in error.value.message
    assert error.value.hint is not None
    assert "GITWARD_GO" in error.value.hint


def test_too_old_go_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake_go = tmp_path / "go"
    fake_go.write_text("#!/bin/sh\necho go1.19.8\n")
    fake_go.chmod(0o755)
    monkeypatch.setenv("GITWARD_GO", str(fake_go))
    with pytest.raises(ToolchainError, match=r"Go go1\.19\.8 .* is too old"):
        find_go()


FAKE_GO = """#!/bin/sh
# A stand-in for `go`: records its arguments and working directory, writes a binary.
echo "$PWD $*" >> "{log}"
if [ "$1" = env ]; then echo go1.26.8; exit 0; fi
out=""
prev=""
for arg in "$@"; do
  [ "$prev" = -o ] && out="$arg"
  prev="$arg"
done
[ -z "$out" ] && out="$GOBIN/$(basename "$(echo "$*" | sed 's/.* //; s/@.*//')")"
printf '#!/bin/sh\\necho built\\n' > "$out"
chmod +x "$out"
"""


def fake_go(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    log = tmp_path / "go.log"
    script = tmp_path / "go"
    script.write_text(FAKE_GO.format(log=log))
    script.chmod(0o755)
    monkeypatch.setenv("GITWARD_GO", str(script))
    return log


def test_a_new_tool_is_one_data_entry(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    log = fake_go(tmp_path, monkeypatch)
    extra = Tool("kubeseal", "example.org/kubeseal/cmd/kubeseal", "v0.1.0", ldflags=("-X=a.b=c",))
    chain = Toolchain(cache_dir=tmp_path / "cache", tools=(*TOOLS, extra))

    paths = chain.ensure(["kubeseal"])

    assert paths["kubeseal"].is_file()
    assert paths["kubeseal"].parent.name.startswith("kubeseal-v0.1.0-go1.26.8-")
    build = log.read_text().splitlines()[-1]
    assert "install -trimpath -ldflags=-X=a.b=c example.org/kubeseal/cmd/kubeseal@v0.1.0" in build
    assert chain.missing(["kubeseal", "helm"]) == ["helm"]


def test_a_tool_in_our_go_module_builds_there_with_its_tags(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    log = fake_go(tmp_path, monkeypatch)
    chain = Toolchain(cache_dir=tmp_path / "cache")

    chain.ensure(["kube-scheduler"])

    cwd, *args = log.read_text().splitlines()[-1].split(" ")
    assert Path(cwd).resolve() == module_dir("k8s").resolve()
    assert args[:3] == ["build", "-trimpath", "-tags=selinux,notest"]
    assert args[-1] == "k8s.io/kubernetes/cmd/kube-scheduler"


def test_an_unknown_name_in_a_custom_catalog_names_that_catalog(tmp_path: Path) -> None:
    chain = Toolchain(cache_dir=tmp_path, tools=(tool_spec("helm"),))
    with pytest.raises(ToolchainError) as error:
        chain.spec("kubectl")
    assert error.value.hint == "known tools: helm"


def test_find_uses_a_built_binary_without_asking_go(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    log = fake_go(tmp_path, monkeypatch)
    chain = Toolchain(cache_dir=tmp_path / "cache")
    assert chain.find("helm") is None
    built = chain.ensure(["helm"])["helm"]
    calls = len(log.read_text().splitlines())

    monkeypatch.setenv("GITWARD_GO", str(tmp_path / "no-such-go"))
    assert Toolchain(cache_dir=tmp_path / "cache").find("helm") == built
    assert len(log.read_text().splitlines()) == calls  # Go was not run again


def test_find_ignores_another_version_of_the_tool(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_go(tmp_path, monkeypatch)
    older = dataclasses.replace(tool_spec("helm"), version="v3.0.0")
    Toolchain(cache_dir=tmp_path / "cache", tools=(older,)).ensure(["helm"])
    assert Toolchain(cache_dir=tmp_path / "cache").find("helm") is None


def test_a_go_that_cannot_run_is_explained(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GITWARD_GO", str(tmp_path / "no-such-go"))
    with pytest.raises(ToolchainError, match="env GOVERSION` failed: No such file"):
        find_go()
