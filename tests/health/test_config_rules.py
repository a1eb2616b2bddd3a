"""The config source reads the ``--health-rules`` folder beside the declarations."""

from __future__ import annotations

from pathlib import Path

import pytest

from gitward.errors import PathEscapeError
from gitward.reconcile.config import ConfigLocation, ConfigSource, Loaded

APP = """apiVersion: gitward.dev/v1alpha1
kind: Application
metadata: {name: web}
spec:
  source: {repoURL: 'https://example.com/web.git', path: app}
  destination: {namespace: web}
"""


class NoGit:
    """A local folder needs no Git; any call would be a bug in the test's premise."""

    def __getattr__(self, name: str) -> object:
        raise AssertionError(f"Git used for a local folder: {name}")


async def load(folder: Path) -> Loaded:
    location = ConfigLocation.parse(str(folder), health_rules="health")
    return await ConfigSource(location, NoGit()).load()  # type: ignore[arg-type]


async def test_rule_files_are_read_named_by_their_path_and_not_taken_for_declarations(
    tmp_path: Path,
) -> None:
    (tmp_path / "apps").mkdir()
    (tmp_path / "apps" / "web.yaml").write_text(APP)
    (tmp_path / "health" / "ops").mkdir(parents=True)
    (tmp_path / "health" / "ops" / "cert.yaml").write_text(
        "group: cert-manager.io\nkinds: [Certificate]\nhealthy: 'true'\n"
    )
    (tmp_path / "health" / "bad.yaml").write_text("group: x.io\nkinds: [A]\nnope: 1\n")
    loaded = await load(tmp_path)
    assert list(loaded.declarations.apps) == ["web"]
    [rule] = loaded.health_rules
    assert (rule.source, rule.rule.origin) == ("config", "health/ops/cert.yaml")
    assert rule.name == "config cert-manager.io/Certificate"
    [error] = loaded.rule_errors
    assert str(error).startswith("health/bad.yaml:3: unknown field 'nope'"), error


async def test_a_missing_rules_folder_is_reported_and_the_declarations_load(
    tmp_path: Path,
) -> None:
    (tmp_path / "web.yaml").write_text(APP)
    loaded = await load(tmp_path)
    assert list(loaded.declarations.apps) == ["web"]
    assert [str(e) for e in loaded.rule_errors] == ["health: not a folder of rule files"]


async def test_a_rule_file_linking_out_of_the_repository_is_refused(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    (repo / "health").mkdir(parents=True)
    (tmp_path / "outside.yaml").write_text("group: x.io\nkinds: [A]\nhealthy: 'true'\n")
    (repo / "health" / "a.yaml").symlink_to(tmp_path / "outside.yaml")
    with pytest.raises(PathEscapeError):
        await load(repo)
