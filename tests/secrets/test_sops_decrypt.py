"""gitward's native SOPS decryption against files the real ``sops`` encrypted.

Each case is encrypted by the pinned Go-built ``sops`` and decrypted by gitward; the
result must equal what ``sops decrypt`` itself prints, with the MAC checked. Tampered
files, missing keys and unsupported features are errors that name the file and never
carry a decrypted value.
"""

from __future__ import annotations

import json
import re
import textwrap
from pathlib import Path
from typing import Any

import pytest
import yaml

from gitward.errors import ConfigError, DecryptionError, RenderError
from gitward.model import DecryptionKeys
from gitward.render.sops import decrypt
from gitward.render.sops_keys import parse_identities
from gitward.render.sops_stores import SopsFormat
from tests.fuzz.budget import within

from .conftest import AgeKey, Sops

PASSWORD = "hunter2-correct-horse"
SECRET = textwrap.dedent(
    f"""\
    apiVersion: v1
    kind: Secret
    metadata:
      name: db
      labels: {{plain: "yes", legacy-bool: yes, octal: 0755, exp: 1e3, when: 2001-12-14}}
      annotations:
        note: keep me
    type: Opaque
    stringData:
      password: {PASSWORD}
      port: 5432
      ratio: 1.50
      enabled: true
      hosts: [a.example, 1, 2.5, false]
      empty: ""
      nothing: null
    """
)
RULES = [
    pytest.param((), id="everything"),
    pytest.param(("--encrypted-regex", "^(data|stringData)$"), id="encrypted-regex"),
    pytest.param(("--unencrypted-regex", "^(metadata|kind|apiVersion)$"), id="unencrypted-regex"),
    pytest.param(("--encrypted-suffix", "word"), id="encrypted-suffix"),
    pytest.param(("--unencrypted-suffix", "tions"), id="unencrypted-suffix"),
]


def sops_view(sops: Sops, encrypted: str, name: str, key: AgeKey) -> Any:
    """What ``sops decrypt`` prints for ``encrypted``, as JSON."""
    path = sops.workdir / name
    path.write_text(encrypted)
    return json.loads(sops.run("decrypt", "--output-type", "json", str(path), key=key))


@pytest.mark.parametrize("rules", RULES)
def test_yaml_decrypts_as_sops_does(
    sops: Sops, age_key: AgeKey, tmp_path: Path, rules: tuple[str, ...]
) -> None:
    plain = tmp_path / "secret.yaml"
    plain.write_text(SECRET)
    encrypted = sops.encrypt(plain, age_key.recipient, rules=rules)
    assert PASSWORD not in encrypted

    result = decrypt(encrypted, SopsFormat.YAML, age_key.keys, "deploy/secret.yaml")

    assert result is not None
    assert result.documents == [sops_view(sops, encrypted, "enc.yaml", age_key)]
    assert result.documents[0]["stringData"]["password"] == PASSWORD
    assert PASSWORD in result.plaintexts


def test_mac_only_encrypted_files_decrypt(sops: Sops, age_key: AgeKey, tmp_path: Path) -> None:
    (tmp_path / ".sops.yaml").write_text(
        "creation_rules:\n"
        f"  - age: {age_key.recipient}\n"
        "    encrypted_regex: ^(data|stringData)$\n"
        "    mac_only_encrypted: true\n"
    )
    plain = tmp_path / "secret.yaml"
    plain.write_text(SECRET)
    encrypted = sops.run("encrypt", str(plain))
    assert "mac_only_encrypted: true" in encrypted

    result = decrypt(encrypted, SopsFormat.YAML, age_key.keys, "secret.yaml")

    assert result is not None
    assert result.documents == [sops_view(sops, encrypted, "enc.yaml", age_key)]
    # Only encrypted values are covered: an unencrypted label may change.
    changed = encrypted.replace("note: keep me", "note: changed")
    assert decrypt(changed, SopsFormat.YAML, age_key.keys, "secret.yaml") is not None


def test_json_and_several_yaml_documents(sops: Sops, age_key: AgeKey, tmp_path: Path) -> None:
    doc: dict[str, Any] = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "j"}}
    doc["stringData"] = {"token": PASSWORD, "n": 1, "f": 1.0, "g": 2.5}
    (tmp_path / "s.json").write_text(json.dumps(doc))
    encrypted = sops.encrypt(tmp_path / "s.json", age_key.recipient)
    result = decrypt(encrypted, SopsFormat.JSON, age_key.keys, "s.json")
    assert result is not None
    assert result.documents == [sops_view(sops, encrypted, "enc.json", age_key)] == [doc]

    (tmp_path / "two.yaml").write_text(SECRET + "---\n" + SECRET.replace("name: db", "name: db2"))
    encrypted = sops.encrypt(
        tmp_path / "two.yaml", age_key.recipient, rules=("--encrypted-regex", "^stringData$")
    )
    two = decrypt(encrypted, SopsFormat.YAML, age_key.keys, "two.yaml")
    assert two is not None
    (tmp_path / "enc2.yaml").write_text(encrypted)
    expected = list(yaml.safe_load_all(sops.run("decrypt", "enc2.yaml", key=age_key)))
    assert [d["metadata"]["name"] for d in two.documents] == ["db", "db2"]
    assert [d["stringData"]["password"] for d in two.documents] == [PASSWORD] * 2
    assert [d["stringData"] for d in two.documents] == [d["stringData"] for d in expected]


def test_dotenv_and_binary_files(sops: Sops, age_key: AgeKey, tmp_path: Path) -> None:
    (tmp_path / "app.env").write_text(f"USER=admin\n# a comment\nPASSWORD={PASSWORD}=x\n")
    encrypted = sops.encrypt(tmp_path / "app.env", age_key.recipient)
    assert "sops_mac=" in encrypted
    assert PASSWORD not in encrypted
    result = decrypt(encrypted, SopsFormat.DOTENV, age_key.keys, "app.env")
    assert result is not None
    assert result.documents == [{"USER": "admin", "PASSWORD": f"{PASSWORD}=x"}]

    (tmp_path / "cert.pem").write_text(f"-----BEGIN-----\n{PASSWORD}\n-----END-----\n")
    encrypted = sops.encrypt(tmp_path / "cert.pem", age_key.recipient)
    result = decrypt(encrypted, SopsFormat.BINARY, age_key.keys, "cert.pem")
    assert result is not None
    assert result.documents[0]["data"] == (tmp_path / "cert.pem").read_text()


def test_a_file_for_several_recipients_decrypts_with_any(
    sops: Sops, age_key: AgeKey, other_key: AgeKey, tmp_path: Path
) -> None:
    (tmp_path / "s.yaml").write_text(SECRET)
    encrypted = sops.encrypt(tmp_path / "s.yaml", age_key.recipient, other_key.recipient)
    for key in (age_key, other_key):
        result = decrypt(encrypted, SopsFormat.YAML, key.keys, "s.yaml")
        assert result is not None
        assert result.documents[0]["stringData"]["password"] == PASSWORD


@pytest.fixture
def encrypted(sops: Sops, age_key: AgeKey, tmp_path: Path) -> str:
    (tmp_path / "s.yaml").write_text(SECRET)
    return sops.encrypt(
        tmp_path / "s.yaml", age_key.recipient, rules=("--encrypted-regex", "^(data|stringData)$")
    )


@pytest.mark.parametrize(
    ("before", "after"),
    [
        pytest.param("name: db", "name: dc", id="unencrypted-value-changed"),
        pytest.param("note: keep me", "note: keep me too", id="annotation-changed"),
        pytest.param("type: Opaque", "type: kubernetes.io/tls", id="type-changed"),
    ],
)
def test_tampered_file_is_a_mac_mismatch(
    encrypted: str, age_key: AgeKey, before: str, after: str
) -> None:
    assert before in encrypted
    with pytest.raises(DecryptionError, match="MAC mismatch") as caught:
        decrypt(encrypted.replace(before, after), SopsFormat.YAML, age_key.keys, "app/s.yaml")
    assert str(caught.value).startswith("app/s.yaml: ")
    assert PASSWORD not in str(caught.value)


def test_swapped_ciphertexts_do_not_decrypt(encrypted: str, age_key: AgeKey) -> None:
    data = yaml.safe_load(encrypted)
    password, port = data["stringData"]["password"], data["stringData"]["port"]
    swapped = encrypted.replace(password, "@@").replace(port, password).replace("@@", port)
    with pytest.raises(DecryptionError, match="stringData:password:") as caught:
        decrypt(swapped, SopsFormat.YAML, age_key.keys, "s.yaml")
    assert PASSWORD not in str(caught.value)


def test_missing_key_names_the_file_and_the_recipients(
    encrypted: str, age_key: AgeKey, other_key: AgeKey
) -> None:
    with pytest.raises(DecryptionError) as caught:
        decrypt(encrypted, SopsFormat.YAML, other_key.keys, "app/s.yaml")
    message = str(caught.value)
    assert message.startswith("app/s.yaml: cannot decrypt")
    assert age_key.recipient in message  # the key that is missing
    assert other_key.recipient in message  # the one that was tried
    assert str(other_key.file) in message
    assert "--decryption-key-file" in message

    with pytest.raises(DecryptionError, match="no decryption key was given") as caught:
        decrypt(encrypted, SopsFormat.YAML, DecryptionKeys(), "app/s.yaml")
    assert age_key.recipient in str(caught.value)


def test_plain_files_are_not_sops_files(age_key: AgeKey) -> None:
    assert decrypt(SECRET, SopsFormat.YAML, age_key.keys, "s.yaml") is None
    mentions = "kind: ConfigMap\ndata:\n  sops: a tool\n  mac: a computer\n"
    assert decrypt(mentions, SopsFormat.YAML, age_key.keys, "c.yaml") is None
    assert decrypt('{"sops": 1, "mac": 2}', SopsFormat.BINARY, age_key.keys, "x") is None


def test_comment_rules_are_refused(encrypted: str, age_key: AgeKey) -> None:
    with_rule = encrypted.replace("    mac:", "    encrypted_comment_regex: sops:enc\n    mac:", 1)
    with pytest.raises(DecryptionError, match="encrypted_comment_regex is not supported"):
        decrypt(with_rule, SopsFormat.YAML, age_key.keys, "s.yaml")


def test_identity_files(age_key: AgeKey, other_key: AgeKey, tmp_path: Path) -> None:
    both = age_key.file.read_text() + "\n" + other_key.file.read_text()
    keys = parse_identities(both, "both.txt")
    assert len(keys.age) == 2
    assert keys.origins == ("both.txt",)
    assert "AGE-SECRET-KEY" not in repr(keys)

    secret_line = age_key.file.read_text().splitlines()[-1]
    broken = "# comment\n" + secret_line[:-3] + "qqq\n"
    with pytest.raises(ConfigError, match=r"k\.txt: line 2 is not a valid age identity") as caught:
        parse_identities(broken, "k.txt")
    assert secret_line[:-3] not in str(caught.value)
    with pytest.raises(ConfigError, match="line 1 is not an age identity"):
        parse_identities(f"{age_key.recipient}\n", "k.txt")
    with pytest.raises(ConfigError, match="holds no age identity"):
        parse_identities("# nothing\n", "k.txt")


@pytest.mark.parametrize(
    ("text", "fmt", "message"),
    [
        ('{"a": ' + "9" * 5000 + ', "sops": {"mac": "x"}}', SopsFormat.JSON, "64 bits"),
        ("a: " + "9" * 5000 + "\nsops: {mac: x, age: []}\n", SopsFormat.YAML, "cannot decrypt"),
    ],
)
def test_hostile_numbers_are_errors_not_crashes(
    text: str, fmt: SopsFormat, message: str, age_key: AgeKey
) -> None:
    with pytest.raises(RenderError, match=message):
        decrypt(text, fmt, age_key.keys, "f")


def test_integers_beyond_int64_are_refused(encrypted: str, age_key: AgeKey) -> None:
    """What yaml.v3 reads as a uint64 cannot go to Kubernetes (and sops cannot MAC it)."""
    indent = re.search(r"\n( +)name: db\n", encrypted)
    assert indent is not None
    spaces = indent.group(1)
    huge = encrypted.replace(
        f"{spaces}name: db\n", f"{spaces}name: db\n{spaces}generation: 18446744073709551615\n"
    )
    with pytest.raises(DecryptionError, match="does not fit in 64 bits"):
        decrypt(huge, SopsFormat.YAML, age_key.keys, "s.yaml")


def test_a_hostile_rule_cannot_hang_the_render(sops: Sops, age_key: AgeKey, tmp_path: Path) -> None:
    """sops matches rules with Go's RE2; so does gitward: linear time, no backtracking."""
    key = "a" * 40 + "!"
    # The rule is tried on the long key (no match after 40 a's: Python's re would take
    # 2^40 steps), and matches "stringData", whose value is encrypted.
    (tmp_path / "s.yaml").write_text(f"{key}: in clear\nstringData:\n  password: {PASSWORD}\n")
    encrypted = sops.encrypt(
        tmp_path / "s.yaml", age_key.recipient, rules=("--encrypted-regex", "(a+)+$")
    )
    with within(5.0, "a catastrophic-backtracking rule"):
        result = decrypt(encrypted, SopsFormat.YAML, age_key.keys, "s.yaml")
    assert result is not None
    assert result.documents[0] == {key: "in clear", "stringData": {"password": PASSWORD}}
    assert PASSWORD not in encrypted

    lookbehind = encrypted.replace("encrypted_regex: (a+)+$", "encrypted_regex: (?<=x)y")
    with pytest.raises(DecryptionError, match="is not a valid regular expression"):
        decrypt(lookbehind, SopsFormat.YAML, age_key.keys, "s.yaml")


def test_a_hostile_value_cannot_hang_the_render(encrypted: str, age_key: AgeKey) -> None:
    """sops' own value pattern has four greedy groups; Python's re backtracks for hours
    on this value, RE2 (as in Go) answers at once."""
    ciphertext = yaml.safe_load(encrypted)["stringData"]["password"]
    hostile = "ENC[AES256_GCM,data:" + ",iv:,tag:" * 20_000
    with within(5.0, "a value built to backtrack"), pytest.raises(DecryptionError) as caught:
        decrypt(encrypted.replace(ciphertext, f"'{hostile}'"), SopsFormat.YAML, age_key.keys, "s")
    assert "stringData:password:" in str(caught.value)
