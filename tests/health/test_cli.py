"""`gitward health` as a user runs it: outputs, overrides and exit codes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

from tests.health.test_library import run_health

DEGRADED_CERT = {
    "apiVersion": "cert-manager.io/v1",
    "kind": "Certificate",
    "metadata": {"name": "web", "namespace": "shop"},
    "spec": {"secretName": "web"},
    "status": {"conditions": [{"type": "Ready", "status": "False", "reason": "Expired"}]},
}
CONFIGMAP = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c", "namespace": "a"}}


def write(path: Path, *docs: Any) -> Path:
    path.write_text(yaml.safe_dump_all(docs))
    return path


def entries(*args: str) -> list[dict[str, str]]:
    result = run_health(*args, "-o", "json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert isinstance(data, list)
    return data


def test_unhealthy_objects_are_reported_with_exit_0(tmp_path: Path) -> None:
    path = write(tmp_path / "objs.yaml", DEGRADED_CERT, CONFIGMAP)
    assert entries("-f", str(path)) == [
        {
            "file": str(path),
            "group": "cert-manager.io",
            "kind": "Certificate",
            "namespace": "shop",
            "name": "web",
            "status": "Progressing",
            "message": "Expired",
            "rule": "bundled cert-manager.io/Certificate",
        },
        {
            "file": str(path),
            "group": "",
            "kind": "ConfigMap",
            "namespace": "a",
            "name": "c",
            "status": "Healthy",
            "message": "exists; no status to check",
            "rule": "generic",
        },
    ]


def test_folders_and_several_files_and_lists(tmp_path: Path) -> None:
    (tmp_path / "d" / "sub").mkdir(parents=True)
    write(tmp_path / "d" / "sub" / "a.yaml", CONFIGMAP)
    (tmp_path / "d" / "b.json").write_text(json.dumps({"kind": "List", "items": [CONFIGMAP] * 2}))
    (tmp_path / "d" / "notes.txt").write_text("not yaml: [")
    single = write(tmp_path / "c.yml", DEGRADED_CERT)
    found = entries("-f", str(tmp_path / "d"), "-f", str(single))
    assert [Path(e["file"]).name for e in found] == ["b.json", "b.json", "a.yaml", "c.yml"]


def test_standard_input(tmp_path: Path) -> None:
    result = run_health("-f", "-", "-o", "json", stdin=yaml.safe_dump(DEGRADED_CERT))
    assert result.returncode == 0, result.stderr
    assert [(e["file"], e["kind"]) for e in json.loads(result.stdout)] == [("-", "Certificate")]


def test_table_output_names_the_rule(tmp_path: Path) -> None:
    result = run_health("-f", str(write(tmp_path / "o.yaml", DEGRADED_CERT)))
    assert result.returncode == 0
    assert "Certificate.cert-manager.io" in result.stdout
    assert "bundled cert-manager.io/Certificate" in result.stdout


def test_an_app_rule_overrides_the_bundled_one(tmp_path: Path) -> None:
    app = {
        "apiVersion": "gitward.dev/v1alpha1",
        "kind": "Application",
        "metadata": {"name": "shop"},
        "spec": {
            "source": {"repoURL": "https://example.com/r.git", "path": "."},
            "destination": {"namespace": "shop"},
            "healthChecks": [
                {
                    "group": "cert-manager.io",
                    "kind": "Certificate",
                    "healthy": 'conditions.?Ready.reason.orValue("") == "Expired"',
                    "message": '"expired certificates are fine in this test app"',
                }
            ],
        },
    }
    found = entries(
        "-f",
        str(write(tmp_path / "o.yaml", DEGRADED_CERT)),
        "--app",
        str(write(tmp_path / "app.yaml", app)),
    )
    assert found[0]["status"] == "Healthy"
    assert found[0]["rule"] == "app healthChecks cert-manager.io/Certificate"


def test_a_broken_rules_folder_is_exit_2_with_file_and_line_and_results(tmp_path: Path) -> None:
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "cert.yaml").write_text(
        "group: cert-manager.io\nkinds: [Certificate]\n\ndegraded: 'status.conditions.exists(c,'\n"
    )
    result = run_health("-f", str(write(tmp_path / "o.yaml", DEGRADED_CERT)), "--rules", str(rules))
    assert result.returncode == 2
    assert f"{rules}/cert.yaml:4: " in result.stderr
    assert "does not compile" in result.stderr
    # The bundled rule for the kind still applies, and the results are printed.
    assert "bundled cert-manager.io/Certificate" in result.stdout


def test_bad_input_is_exit_2(tmp_path: Path) -> None:
    (tmp_path / "bad.yaml").write_text("kind: [unclosed\n")
    (tmp_path / "scalar.yaml").write_text("just a string\n")
    bomb = ["a: &a [x, x, x, x, x, x, x, x, x]"] + [
        f"{n}: &{n} [{', '.join([f'*{p}'] * 9)}]" for p, n in zip("abcdefg", "bcdefgh", strict=True)
    ]
    (tmp_path / "bomb.yaml").write_text("\n".join(bomb) + "\n")
    for args, expected in (
        (["-f", str(tmp_path / "bad.yaml")], "not valid YAML"),
        (["-f", str(tmp_path / "scalar.yaml")], "not an object"),
        (["-f", str(tmp_path / "missing.yaml")], "no such file"),
        (["-f", str(tmp_path / "bomb.yaml")], "alias bomb"),
        (["-f", str(tmp_path / "scalar.yaml"), "-o", "xml"], "use table or json"),
    ):
        result = run_health(*args)
        assert result.returncode == 2, args
        assert expected in result.stderr
