"""SOPS at render: encrypted manifests and Kustomize inputs become plaintext objects.

The directory renderer decrypts encrypted manifests; for Kustomize, encrypted
``resources`` and ``secretGenerator`` env files and files are decrypted into a private
copy on /dev/shm that is gone after the run. A file that cannot be decrypted fails the
whole render: nothing comes out encrypted, nothing comes out partly.
"""

from __future__ import annotations

import base64
import textwrap
from pathlib import Path

import pytest

from gitward.errors import DecryptionError, RenderError
from gitward.model import DecryptionKeys, Resource, SourceSpec
from gitward.ports import RenderRequest
from gitward.render import ManifestRenderer, RenderTools
from gitward.render.secretfiles import DecryptedTree, is_memory_filesystem

from .conftest import AgeKey, Sops

PASSWORD = "s3cr3t-at-render"
TOKEN = "api-token-0123456789"
ONLY_DATA = ("--encrypted-regex", "^(data|stringData)$")


def write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"))


def secret(name: str, value: str = PASSWORD) -> str:
    return f"""
        apiVersion: v1
        kind: Secret
        metadata:
          name: {name}
        stringData:
          password: {value}
        """


def render(
    renderer: ManifestRenderer, root: Path, path: str, keys: DecryptionKeys
) -> list[Resource]:
    request = RenderRequest(root, "0" * 40, SourceSpec("file:///r", path=path), "demo", keys=keys)
    return renderer.render(request)


def test_directory_decrypts_encrypted_manifests(
    renderer: ManifestRenderer, sops: Sops, age_key: AgeKey, tmp_path: Path
) -> None:
    root = tmp_path / "repo"
    write(
        root,
        {
            "app/secret.yaml": secret("db"),
            "app/cm.yaml": "apiVersion: v1\nkind: "
            "ConfigMap\nmetadata: {name: plain}\ndata: {a: b}\n",
        },
    )
    sops.encrypt_in_place(root / "app/secret.yaml", age_key.recipient, rules=ONLY_DATA)

    found = {r.key.name: r for r in render(renderer, root, "app", age_key.keys)}

    assert found["db"].body["stringData"] == {"password": PASSWORD}
    assert "sops" not in found["db"].body
    assert str(found["db"].source) == "app/secret.yaml"
    assert found["plain"].body["data"] == {"a": "b"}


def test_one_undecryptable_file_fails_the_whole_render(
    renderer: ManifestRenderer, sops: Sops, age_key: AgeKey, other_key: AgeKey, tmp_path: Path
) -> None:
    root = tmp_path / "repo"
    write(root, {"app/a.yaml": secret("a"), "app/b.yaml": secret("b")})
    sops.encrypt_in_place(root / "app/a.yaml", age_key.recipient)
    sops.encrypt_in_place(root / "app/b.yaml", other_key.recipient)

    with pytest.raises(DecryptionError) as caught:
        render(renderer, root, "app", age_key.keys)

    message = str(caught.value)
    assert message.startswith("app/b.yaml: cannot decrypt")
    assert other_key.recipient in message
    assert PASSWORD not in message


KUSTOMIZATION = """
    resources:
      - secret.yaml
    secretGenerator:
      - name: from-env
        envs: [app.env]
      - name: from-file
        files: [token.txt]
    generatorOptions:
      disableNameSuffixHash: true
    """


@pytest.fixture
def kustomize_app(sops: Sops, age_key: AgeKey, tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    write(
        root,
        {
            "app/kustomization.yaml": KUSTOMIZATION,
            "app/secret.yaml": secret("db"),
            "app/app.env": f"USER=admin\nPASSWORD={PASSWORD}\n",
            "app/token.txt": TOKEN,
        },
    )
    sops.encrypt_in_place(root / "app/secret.yaml", age_key.recipient, rules=ONLY_DATA)
    sops.encrypt_in_place(root / "app/app.env", age_key.recipient)
    sops.encrypt_in_place(root / "app/token.txt", age_key.recipient)
    return root


def test_kustomize_decrypts_resources_and_secret_generators(
    renderer: ManifestRenderer, kustomize_app: Path, age_key: AgeKey, plaintext_dir: Path
) -> None:
    found = {r.key.name: r.body for r in render(renderer, kustomize_app, "app", age_key.keys)}

    assert found["db"]["stringData"] == {"password": PASSWORD}
    assert "sops" not in found["db"]
    env = {k: base64.b64decode(v).decode() for k, v in found["from-env"]["data"].items()}
    assert env == {"USER": "admin", "PASSWORD": PASSWORD}
    assert base64.b64decode(found["from-file"]["data"]["token.txt"]).decode() == TOKEN
    assert list(plaintext_dir.iterdir()) == []  # the private copy is gone
    assert PASSWORD not in (kustomize_app / "app/app.env").read_text()


def test_kustomize_without_the_key_fails_naming_the_file(
    renderer: ManifestRenderer,
    kustomize_app: Path,
    age_key: AgeKey,
    other_key: AgeKey,
    plaintext_dir: Path,
) -> None:
    with pytest.raises(DecryptionError) as caught:
        render(renderer, kustomize_app, "app", other_key.keys)

    message = str(caught.value)
    assert "cannot decrypt" in message
    assert "app/" in message
    assert age_key.recipient in message
    assert list(plaintext_dir.iterdir()) == []


def test_kustomize_errors_on_the_copy_name_repository_paths(
    renderer: ManifestRenderer, sops: Sops, age_key: AgeKey, tmp_path: Path, plaintext_dir: Path
) -> None:
    root = tmp_path / "repo"
    nameless = "apiVersion: v1\nkind: Secret\nmetadata: {labels: {a: b}}\n"
    write(root, {"app/kustomization.yaml": "resources: [s.yaml]\n", "app/s.yaml": nameless})
    (root / "app/s.yaml").write_text(nameless + f"stringData: {{password: {PASSWORD}}}\n")
    sops.encrypt_in_place(root / "app/s.yaml", age_key.recipient)

    with pytest.raises(RenderError) as caught:
        render(renderer, root, "app", age_key.keys)

    message = str(caught.value)
    assert "missing metadata.name" in message
    assert f"{root.resolve()}/app/s.yaml" in message
    assert str(plaintext_dir) not in message
    assert PASSWORD not in message
    assert list(plaintext_dir.iterdir()) == []


def test_tool_output_is_scrubbed_of_every_decrypted_value() -> None:
    copy = DecryptedTree(Path("/mem/gitward-sops-x"), plaintexts=[PASSWORD, TOKEN, "ab"])
    output = f"line 2: BAD {PASSWORD}x in /mem/gitward-sops-x/app/a.env; {TOKEN}; ab"
    scrubbed = copy.scrub(output, Path("/repo"))
    assert scrubbed == "line 2: BAD <redacted>x in /repo/app/a.env; <redacted>; ab"


def test_decrypting_for_kustomize_needs_a_memory_filesystem(
    tools: RenderTools, kustomize_app: Path, age_key: AgeKey, tmp_path: Path
) -> None:
    on_disk = tmp_path / "disk"
    on_disk.mkdir()
    assert not is_memory_filesystem(on_disk)
    renderer = ManifestRenderer(
        RenderTools(tools.kustomize, tools.helm, plaintext_dir=on_disk), cache_size=0
    )

    with pytest.raises(DecryptionError, match="not a memory filesystem"):
        render(renderer, kustomize_app, "app", age_key.keys)
    assert list(on_disk.iterdir()) == []


def test_kustomize_without_sops_files_renders_in_place(
    renderer: ManifestRenderer, tmp_path: Path, plaintext_dir: Path
) -> None:
    root = tmp_path / "repo"
    write(root, {"app/kustomization.yaml": "resources: [s.yaml]\n", "app/s.yaml": secret("p")})
    found = render(renderer, root, "app", DecryptionKeys())
    assert [r.key.name for r in found] == ["p"]


def test_rendered_ciphertext_is_never_passed_on(
    renderer: ManifestRenderer, sops: Sops, age_key: AgeKey, tmp_path: Path
) -> None:
    """SOPS ciphertext that reached a Secret some other way (here pasted into a
    secretGenerator literal from an encrypted dotenv file) fails the render."""
    root = tmp_path / "repo"
    write(root, {"app/app.env": f"PASSWORD={PASSWORD}\n"})
    sops.encrypt_in_place(root / "app/app.env", age_key.recipient)
    line = next(x for x in (root / "app/app.env").read_text().splitlines() if x.startswith("PASS"))
    (root / "app/app.env").unlink()
    write(
        root,
        {
            "app/kustomization.yaml": (
                f"secretGenerator:\n  - name: pasted\n    literals:\n      - '{line}'\n"
            )
        },
    )

    with pytest.raises(DecryptionError, match=r"app: Secret pasted-\w+ is still SOPS-encrypted"):
        render(renderer, root, "app", age_key.keys)
