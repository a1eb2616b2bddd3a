"""Commit signatures checked with the real gpg and ssh-keygen on real repositories.

Each commit is made by ``git commit -S`` (OpenPGP, or SSH with ``gpg.format ssh``) in
a real repository, read back through gitward's Git source (its mirror), and checked
against the trusted keys only: a stranger's valid signature is as bad as none.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from gitward.errors import ConfigError, SignatureError
from gitward.model import Revision, TrustedKeys
from gitward.source import GitRepositorySource
from gitward.source.signatures import parse_public_keys, ssh_fingerprint, verify_commit
from tests.source.gitfixtures import git
from tests.trust.signing import How, Signers, commit_signed, tampered


@pytest.fixture
def work(tmp_path: Path) -> Path:
    path = tmp_path / "work"
    path.mkdir()
    git(path, "init", "-q", "-b", "main")
    return path


def trusted(signers: Signers) -> TrustedKeys:
    return parse_public_keys(signers.gpg_public + signers.ssh_public + "\n", "test keys")


def check(tmp_path: Path, work: Path, sha: str, keys: TrustedKeys) -> str:
    source = GitRepositorySource(tmp_path / "cache")
    revision = source.resolve(str(work), sha)
    return str(verify_commit(source.signed_commit(revision), keys))


@pytest.mark.parametrize("how", ["gpg", "ssh"])
def test_a_commit_signed_by_a_trusted_key_is_verified(
    signers: Signers, work: Path, tmp_path: Path, how: How
) -> None:
    sha = commit_signed(signers, work, {"a.yaml": "a: 1\n"}, how)

    signer = check(tmp_path, work, sha, trusted(signers))

    expected = signers.gpg_fpr if how == "gpg" else ssh_fingerprint(signers.ssh_public)
    assert signer.endswith(expected)


@pytest.mark.parametrize(
    ("how", "reason"),
    [
        ("unsigned", "it is not signed"),
        ("gpg-stranger", "it was made by a key that is not trusted"),
        ("ssh-stranger", "it was made by an SSH key that is not trusted"),
    ],
)
def test_an_unsigned_or_strangers_commit_is_refused_with_its_sha_and_why(
    signers: Signers, work: Path, tmp_path: Path, how: How, reason: str
) -> None:
    sha = commit_signed(signers, work, {"a.yaml": "a: 1\n"}, how)

    with pytest.raises(SignatureError) as refused:
        check(tmp_path, work, sha, trusted(signers))

    assert refused.value.sha == sha
    assert reason in refused.value.reason
    assert f"commit {sha} is refused" in str(refused.value)


@pytest.mark.parametrize("how", ["gpg", "ssh"])
def test_a_commit_altered_after_signing_is_refused(
    signers: Signers, work: Path, tmp_path: Path, how: How
) -> None:
    signed = commit_signed(signers, work, {"a.yaml": "a: 1\n"}, how)
    forged = tampered(work, signed)

    with pytest.raises(SignatureError) as refused:
        check(tmp_path, work, forged, trusted(signers))

    assert refused.value.sha == forged
    assert "does not" in refused.value.reason  # "does not match" / "does not verify"


def test_only_the_kind_of_key_that_signed_counts(
    signers: Signers, work: Path, tmp_path: Path
) -> None:
    sha = commit_signed(signers, work, {"a.yaml": "a: 1\n"}, "ssh")
    only_pgp = parse_public_keys(signers.gpg_public, "pgp only")

    with pytest.raises(SignatureError, match="no SSH key is trusted"):
        check(tmp_path, work, sha, only_pgp)


def test_a_damaged_openpgp_key_is_a_configuration_error_naming_its_origin(
    signers: Signers, work: Path, tmp_path: Path
) -> None:
    sha = commit_signed(signers, work, {"a.yaml": "a: 1\n"}, "gpg")
    lines = signers.gpg_public.splitlines()
    damaged = "\n".join([*lines[:3], "AAAA" + lines[3][4:], *lines[4:]]) + "\n"

    with pytest.raises(ConfigError, match="does not import") as refused:
        check(tmp_path, work, sha, parse_public_keys(damaged, "Secret web/keys entry a.asc"))

    assert "(Secret web/keys entry a.asc): CRC error" in str(refused.value)
    assert "gitward-verify-" not in str(refused.value)


def test_keys_are_found_among_other_text() -> None:
    text = "# team keys\nssh-ed25519 AAAAC3Nz alice@laptop extra\n\nnot a key\n"
    keys = parse_public_keys(text + _ARMORED, "keys.txt")

    assert keys.ssh == ("ssh-ed25519 AAAAC3Nz alice@laptop",)
    assert keys.openpgp == (_ARMORED.strip() + "\n",)
    assert keys.origins == ("keys.txt",)
    assert not parse_public_keys("nothing here", "empty")


_ARMORED = """-----BEGIN PGP PUBLIC KEY BLOCK-----

mDMEZabc
-----END PGP PUBLIC KEY BLOCK-----
"""


def test_revisions_are_read_from_the_mirror_not_the_work_tree(
    signers: Signers, work: Path, tmp_path: Path
) -> None:
    sha = commit_signed(signers, work, {"a.yaml": "a: 1\n"}, "gpg")
    source = GitRepositorySource(tmp_path / "cache")
    revision = source.resolve(str(work), "main")
    assert revision == Revision(str(work), "main", sha)

    commit = source.signed_commit(revision)

    assert commit.signature is not None
    assert commit.signature.startswith("-----BEGIN PGP")
    assert b"gpgsig" not in commit.payload
    assert commit.payload.startswith(b"tree ")
