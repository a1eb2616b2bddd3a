"""`gitward validate --decryption-key-file`: SOPS files are checked like any manifest in CI,
and a file the given keys cannot open fails the run naming its recipient."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from tests.engine.conftest import GitRepo
from tests.secrets.conftest import AgeKey, Sops

PLAINTEXT = "hunter2-validate-only"
GITWARD = (sys.executable, "-m", "gitward")

SECRET = f"""\
apiVersion: v1
kind: Secret
metadata: {{name: db}}
stringData: {{password: {PLAINTEXT}}}
"""


def validate(repo: GitRepo, *extra: str) -> tuple[int, dict[str, Any], str]:
    result = subprocess.run(
        [*GITWARD, "validate", "--repo", str(repo.path), "--path", "app", "-o", "json", *extra],
        capture_output=True,
        text=True,
        env={**os.environ, "NO_COLOR": "1"},
        timeout=600,
        check=False,
    )
    assert result.returncode in (0, 1), result.stderr
    return result.returncode, json.loads(result.stdout), result.stdout + result.stderr


def encrypted_repo(tmp_path: Path, sops: Sops, key: AgeKey) -> GitRepo:
    repo = GitRepo(tmp_path / "repo")
    plain = tmp_path / "secret.yaml"
    plain.write_text(SECRET)
    repo.write({"app/secret.yaml": sops.encrypt(plain, key.recipient)})
    repo.commit("an encrypted Secret")
    return repo


def test_validate_decrypts_with_the_key_file(tmp_path: Path, sops: Sops, age_key: AgeKey) -> None:
    repo = encrypted_repo(tmp_path, sops, age_key)
    code, report, output = validate(repo, "--decryption-key-file", str(age_key.file))
    [app] = report["apps"]
    assert (code, app["error"], app["objects"]) == (0, None, 1)
    assert PLAINTEXT not in output


def test_validate_without_the_key_names_the_file_and_recipient(
    tmp_path: Path, sops: Sops, age_key: AgeKey, other_key: AgeKey
) -> None:
    repo = encrypted_repo(tmp_path, sops, age_key)
    code, report, output = validate(repo, "--decryption-key-file", str(other_key.file))
    [app] = report["apps"]
    assert code == 1
    assert "secret.yaml" in app["error"]
    assert age_key.recipient in app["error"]
    assert PLAINTEXT not in output
