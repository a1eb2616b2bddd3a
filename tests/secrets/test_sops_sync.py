"""SOPS end to end: `gitward sync` and `gitward serve` apply decrypted Secrets, and the
plaintext is in no byte gitward wrote.

The repository holds a Kustomize app whose Secret manifest, ``secretGenerator`` env file
and ``secretGenerator`` file are encrypted by the real ``sops`` for an age key. After a
sync the Secrets in the cluster hold the plaintext; then every file under gitward's
cache and state directories (Git mirrors, checkouts, the SQLite database and its WAL,
logs), every output of the commands, every API answer and the inventory objects in the
cluster are searched for each secret value, raw and base64-encoded.
"""

from __future__ import annotations

import base64
import json
import os
import re
import subprocess
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import pytest
from lightkube import Client
from lightkube.models.meta_v1 import ObjectMeta
from lightkube.resources.core_v1 import ConfigMap, Secret

from gitward.devcluster import ClusterState
from gitward.toolchain import Toolchain
from tests.engine.conftest import GitRepo, repo
from tests.support.serve_process import ServeProcess

__all__ = ["repo"]  # a shared fixture

from .conftest import AgeKey, Sops

pytestmark = pytest.mark.cluster

PASSWORD = "db-password-7Hq2vX9k"
ENV_PASSWORD = "env-password-Zr4pL8w"
TOKEN = "file-token-Qm3nB6y"
NEW_PASSWORD = "db-password-rotated-P0w"
PLAINTEXTS = (PASSWORD, ENV_PASSWORD, TOKEN)
ONLY_DATA = ("--encrypted-regex", "^(data|stringData)$")


def forms(plaintext: str) -> list[bytes]:
    """The ways a value can be written down: raw and as Kubernetes' base64."""
    raw = plaintext.encode()
    return [raw, base64.b64encode(raw)]


def files_under(roots: Iterable[Path]) -> Iterator[Path]:
    for root in roots:
        for path in sorted(root.rglob("*")):
            if path.is_file() and not path.is_symlink():
                yield path


def assert_no_plaintext(roots: Iterable[Path], texts: dict[str, str]) -> int:
    """Fail naming the place that holds a secret value; return how many files were read."""
    count = 0
    for path in files_under(roots):
        data = path.read_bytes()
        count += 1
        for plaintext in PLAINTEXTS:
            for form in forms(plaintext):
                assert form not in data, f"{path} holds the secret {plaintext!r}"
    for name, text in texts.items():
        for plaintext in PLAINTEXTS:
            for form in forms(plaintext):
                assert form.decode() not in text, f"{name} shows the secret {plaintext!r}"
    return count


def write_app(repo: GitRepo, sops: Sops, key: AgeKey) -> None:
    repo.write(
        {
            "app/kustomization.yaml": (
                "resources: [secret.yaml, settings.yaml]\n"
                "secretGenerator:\n"
                "  - {name: from-env, envs: [app.env]}\n"
                "  - {name: from-file, files: [token.txt]}\n"
                "generatorOptions: {disableNameSuffixHash: true}\n"
            ),
            "app/secret.yaml": (
                "apiVersion: v1\nkind: Secret\nmetadata: {name: db}\n"
                f"stringData: {{password: {PASSWORD}}}\n"
            ),
            "app/settings.yaml": (
                "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings}\ndata: {a: b}\n"
            ),
            "app/app.env": f"USER=admin\nPASSWORD={ENV_PASSWORD}\n",
            "app/token.txt": TOKEN,
        }
    )
    for name, rules in (("secret.yaml", ONLY_DATA), ("app.env", ()), ("token.txt", ())):
        sops.encrypt_in_place(repo.path / "app" / name, key.recipient, rules=rules)
    repo.commit("encrypted secrets")
    for name in ("secret.yaml", "app.env", "token.txt"):
        assert not any(p in (repo.path / "app" / name).read_text() for p in PLAINTEXTS)


def secret_values(kube: Client, namespace: str) -> dict[str, dict[str, str]]:
    values = {}
    for name in ("db", "from-env", "from-file"):
        live = kube.get(Secret, name, namespace=namespace)
        values[name] = {k: base64.b64decode(v).decode() for k, v in (live.data or {}).items()}
    return values


def expected_values() -> dict[str, dict[str, str]]:
    return {
        "db": {"password": PASSWORD},
        "from-env": {"USER": "admin", "PASSWORD": ENV_PASSWORD},
        "from-file": {"token.txt": TOKEN},
    }


def inventory_text(kube: Client) -> str:
    """Everything gitward keeps in the cluster besides the applied objects."""
    maps = kube.list(ConfigMap, namespace="gitward-system")
    return json.dumps([m.to_dict() for m in maps])


@pytest.fixture
def env(tmp_path: Path, control_plane: ClusterState) -> dict[str, str]:
    tools = Toolchain().ensure(["kustomize", "helm"])
    return {
        **os.environ,
        "KUBECONFIG": control_plane.kubeconfig,
        "GITWARD_CACHE_DIR": str(tmp_path / "cache"),
        "GITWARD_KUSTOMIZE": str(tools["kustomize"]),
        "GITWARD_HELM": str(tools["helm"]),
        "XDG_STATE_HOME": str(tmp_path / "state"),
        "NO_COLOR": "1",
        "COLUMNS": "200",
    }


def gitward(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "gitward", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
        check=False,
    )


def test_cli_sync_applies_decrypted_secrets_and_writes_no_plaintext(
    *,
    repo: GitRepo,
    sops: Sops,
    age_key: AgeKey,
    kube: Client,
    namespace: str,
    env: dict[str, str],
    tmp_path: Path,
) -> None:
    write_app(repo, sops, age_key)
    source = ("--repo", str(repo.path), "--path", "app", "-n", namespace)
    keys = ("--decryption-key-file", str(age_key.file))

    synced = gitward("sync", *source, *keys, "-o", "json", env=env)
    assert synced.returncode == 0, synced.stderr + synced.stdout
    assert json.loads(synced.stdout)["result"] == "succeeded"
    assert secret_values(kube, namespace) == expected_values()

    diffed = gitward("diff", *source, *keys, env=env)
    assert diffed.returncode == 0, diffed.stdout + diffed.stderr  # in sync: decrypted = live
    rendered = gitward("render", *source, *keys, env=env)
    assert rendered.returncode == 0, rendered.stderr
    assert "masked" in rendered.stdout
    table = gitward("sync", *source, *keys, env=env)
    assert table.returncode == 0, table.stderr

    outputs = {
        f"{name} {stream}": text
        for name, run in (
            ("sync", synced),
            ("diff", diffed),
            ("render", rendered),
            ("table", table),
        )
        for stream, text in (("stdout", run.stdout), ("stderr", run.stderr))
    }
    outputs["inventory in the cluster"] = inventory_text(kube)
    read = assert_no_plaintext([tmp_path / "cache", tmp_path / "state"], outputs)
    assert read > 10  # the Git mirror and checkout were searched, not an empty folder

    shown = gitward("render", *source, *keys, "--show-secrets", env=env)
    assert PASSWORD in shown.stdout  # the search above would have found it

    # A changed secret: the diff names the changed field, masked on both sides.
    repo.write(
        {
            "app/secret.yaml": (
                "apiVersion: v1\nkind: Secret\nmetadata: {name: db}\n"
                f"stringData: {{password: {NEW_PASSWORD}}}\n"
            )
        }
    )
    sops.encrypt_in_place(repo.path / "app/secret.yaml", age_key.recipient, rules=ONLY_DATA)
    repo.commit("rotate the password")
    changed = gitward("diff", *source, *keys, env=env)
    assert changed.returncode == 1, changed.stdout + changed.stderr
    assert "update Secret" in changed.stdout
    assert re.search(r"-  password: \++\n\+  password: \++\n", changed.stdout), changed.stdout
    for plaintext in (PASSWORD, NEW_PASSWORD):
        for form in forms(plaintext):
            assert form.decode() not in changed.stdout + changed.stderr


def test_cli_sync_without_the_key_applies_nothing(
    *,
    repo: GitRepo,
    sops: Sops,
    age_key: AgeKey,
    other_key: AgeKey,
    kube: Client,
    namespace: str,
    env: dict[str, str],
) -> None:
    write_app(repo, sops, age_key)
    source = ("--repo", str(repo.path), "--path", "app", "-n", namespace)

    for keys in (("--decryption-key-file", str(other_key.file)), ()):
        result = gitward("sync", *source, *keys, env=env)
        assert result.returncode == 2, result.stdout + result.stderr
        assert "cannot decrypt" in result.stderr
        assert age_key.recipient in result.stderr
        assert re.search(r"app/(secret\.yaml|app\.env|token\.txt)", result.stderr)
        assert not any(p in result.stderr + result.stdout for p in PLAINTEXTS)

    names = {m.metadata.name for m in kube.list(ConfigMap, namespace=namespace) if m.metadata}
    assert "settings" not in names  # the plain ConfigMap beside the secrets was not applied
    secrets = {s.metadata.name for s in kube.list(Secret, namespace=namespace) if s.metadata}
    assert not secrets & {"db", "from-env", "from-file"}


# ---------------------------------------------------------------------------- serve


def application(repo: GitRepo, namespace: str, *, secret_ref: bool = True) -> str:
    decryption = "  decryption: {provider: sops, secretRef: {name: sops-age}}\n"
    return (
        "apiVersion: gitward.dev/v1alpha1\n"
        "kind: Application\n"
        f"metadata: {{name: secrets-{namespace}}}\n"
        "spec:\n"
        f"  source: {{repoURL: '{repo.path}', path: app, targetRevision: main}}\n"
        f"  destination: {{namespace: {namespace}}}\n"
        "  syncPolicy: {automated: {prune: true, selfHeal: true}}\n"
    ) + (decryption if secret_ref else "")


@pytest.mark.parametrize("key_from", ["app-secret", "key-file-flag"])
def test_serve_decrypts_and_writes_no_plaintext(
    *,
    key_from: str,
    control_plane: ClusterState,
    repo: GitRepo,
    sops: Sops,
    age_key: AgeKey,
    kube: Client,
    namespace: str,
    env: dict[str, str],
    tmp_path: Path,
) -> None:
    """The key from the app's Secret (spec.decryption) or from serve's own flag."""
    write_app(repo, sops, age_key)
    flags: tuple[str, ...] = ()
    if key_from == "app-secret":
        kube.create(
            Secret(
                metadata=ObjectMeta(name="sops-age", namespace=namespace),
                stringData={"identity.agekey": age_key.file.read_text()},
            )
        )
    else:
        flags = ("--decryption-key-file", str(age_key.file))
    config = tmp_path / "config"
    config.mkdir()
    (config / "app.yaml").write_text(
        application(repo, namespace, secret_ref=key_from == "app-secret")
    )
    server = ServeProcess(
        tmp_path,
        control_plane.kubeconfig,
        config,
        extra=("--log-format", "json", "--log-level", "debug", *flags),
        env={k: env[k] for k in ("GITWARD_KUSTOMIZE", "GITWARD_HELM")},
    )
    name = f"secrets-{namespace}"
    answers: dict[str, str] = {}
    server.start()
    try:
        app = server.wait(f"/api/v1/applications/{name}", synced, timeout=180)
        answers["app"] = json.dumps(app)
        answers["list"] = server.request("GET", "/api/v1/applications").text
        answers["history"] = server.request("GET", f"/api/v1/applications/{name}/history").text
        answers["metrics"] = server.request("GET", "/metrics").text
        assert secret_values(kube, namespace) == expected_values()
    finally:
        server.stop()

    answers["inventory in the cluster"] = inventory_text(kube)
    answers["serve log"] = server.log_text()
    read = assert_no_plaintext([tmp_path / "cache", tmp_path / "state"], answers)
    assert read > 10
    assert (tmp_path / "state" / "gitward.db").is_file()  # the store was among the files searched
    assert "syncing" in answers["serve log"]


def synced(app: dict[str, Any]) -> bool:
    return bool(app.get("syncState") == "Synced" and app["health"]["status"] == "Healthy")


def test_serve_reports_a_tampered_file_and_a_missing_key_secret_and_keeps_running(
    *,
    control_plane: ClusterState,
    repo: GitRepo,
    sops: Sops,
    age_key: AgeKey,
    kube: Client,
    namespace: str,
    env: dict[str, str],
    tmp_path: Path,
) -> None:
    write_app(repo, sops, age_key)
    secret = repo.path / "app/secret.yaml"
    secret.write_text(secret.read_text().replace("name: db", "name: db-renamed"))
    repo.commit("an edit without sops: the MAC no longer matches")
    config = tmp_path / "config"
    config.mkdir()
    (config / "app.yaml").write_text(application(repo, namespace))
    server = ServeProcess(
        tmp_path,
        control_plane.kubeconfig,
        config,
        env={k: env[k] for k in ("GITWARD_KUSTOMIZE", "GITWARD_HELM")},
    )
    name = f"secrets-{namespace}"
    server.start()
    try:
        # No Secret with the key yet: a reported error that says which Secret to create.
        path = f"/api/v1/applications/{name}"
        missing = server.wait(path, lambda a: "sops-age" in _reported(a), timeout=180)
        assert f"Secret {namespace}/sops-age" in _reported(missing)
        kube.create(
            Secret(
                metadata=ObjectMeta(name="sops-age", namespace=namespace),
                stringData={"identity.agekey": age_key.file.read_text()},
            )
        )
        server.request("POST", f"{path}/sync")
        tampered = server.wait(path, lambda a: "MAC mismatch" in _reported(a), timeout=180)
        assert "app/secret.yaml: MAC mismatch" in _reported(tampered)
        assert tampered["syncState"] != "Synced"
        assert server.request("GET", "/readyz").status_code == 200
    finally:
        server.stop()
    assert not [
        c
        for c in kube.list(ConfigMap, namespace=namespace)
        if c.metadata and c.metadata.name == "settings"
    ]  # nothing of the app was applied
    assert_no_plaintext([tmp_path / "cache", tmp_path / "state"], {"log": server.log_text()})


def _reported(app: dict[str, Any]) -> str:
    """The errors the API shows for an app: its conditions and a failed last sync."""
    messages = [str(c["message"]) for c in app.get("conditions") or [] if c["status"] == "True"]
    last = app.get("lastOperation")
    if last and last["result"] == "Failed":
        messages.append(str(last["message"]))
    return "\n".join(messages)
