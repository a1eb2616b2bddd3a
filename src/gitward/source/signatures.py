"""Check a commit's signature against trusted public keys, with the real ``gpg`` and
``ssh-keygen``.

Before: :meth:`gitward.source.git.GitRepositorySource.signed_commit` splits the commit
object into its signature and the bytes it covers. After: the source stage hands the
commit to render, or refuses it (:mod:`gitward.reconcile.trust`).

Git stores both kinds of signature in the ``gpgsig`` header. OpenPGP signatures are
checked by ``gpg --verify`` in a throwaway ``GNUPGHOME`` holding only the trusted keys,
so neither the host's keyring nor its trust database counts: a key is trusted because
the app lists it, and for no other reason. SSH signatures are checked by
``ssh-keygen -Y verify`` (namespace ``git``, as ``git commit -S`` with ``gpg.format
ssh`` writes them) against an allowed-signers file built from the listed keys.
Each run has a deadline; an expired, revoked or unknown key is a refusal that says so.
"""

from __future__ import annotations

import base64
import hashlib
import os
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from gitward.errors import ConfigError, SignatureError, ToolchainError
from gitward.model import SignedCommit, TrustedKeys

PGP_SIGNATURE = "-----BEGIN PGP SIGNATURE-----"
SSH_SIGNATURE = "-----BEGIN SSH SIGNATURE-----"
_PGP_KEY_BEGIN = "-----BEGIN PGP PUBLIC KEY BLOCK-----"
_PGP_KEY_END = "-----END PGP PUBLIC KEY BLOCK-----"
_SSH_KEY_TYPES = ("ssh-", "ecdsa-sha2-", "sk-ssh-", "sk-ecdsa-")
_TIMEOUT = 30.0
# gpg's status lines that refuse a signature, and why (see doc/DETAILS in GnuPG).
_PGP_REFUSALS = {
    "BADSIG": "the signature does not match the commit (it was altered after signing)",
    "EXPKEYSIG": "it was made by an expired key",
    "REVKEYSIG": "it was made by a revoked key",
    "EXPSIG": "the signature has expired",
    "ERRSIG": "it was made by a key that is not trusted",
    "NO_PUBKEY": "it was made by a key that is not trusted",
}


@dataclass(frozen=True)
class Signer:
    """Who signed a verified commit, for the status and the history."""

    kind: str  # "openpgp" or "ssh"
    key: str  # the OpenPGP fingerprint, or the SSH key's SHA256 fingerprint

    def __str__(self) -> str:
        return f"{self.kind} key {self.key}"


def parse_public_keys(text: str, origin: str) -> TrustedKeys:
    """The OpenPGP key blocks and SSH public key lines in ``text`` (a Secret entry or a
    file may hold either, or both); everything else is ignored, like comments."""
    pgp: list[str] = []
    ssh: list[str] = []
    block: list[str] | None = None
    for raw in text.splitlines():
        line = raw.strip()
        if line == _PGP_KEY_BEGIN:
            block = [line]
        elif block is not None:
            block.append(line)
            if line == _PGP_KEY_END:
                pgp.append("\n".join(block) + "\n")
                block = None
        elif line.startswith(_SSH_KEY_TYPES) and len(line.split()) >= 2:
            ssh.append(" ".join(line.split()[:3]))
    return TrustedKeys(tuple(pgp), tuple(ssh), (origin,) if pgp or ssh else ())


def ssh_fingerprint(public_key: str) -> str:
    """``SHA256:...`` as ``ssh-keygen -l`` prints it, for messages (no process needed)."""
    blob = base64.b64decode(public_key.split()[1])
    return "SHA256:" + base64.b64encode(hashlib.sha256(blob).digest()).decode().rstrip("=")


def verify_commit(commit: SignedCommit, keys: TrustedKeys) -> Signer:
    """The key that signed ``commit``; :class:`SignatureError` saying why it is refused."""
    signature = commit.signature
    if signature is None:
        raise SignatureError(commit.sha, "it is not signed")
    if not keys:
        raise SignatureError(commit.sha, "no trusted public key is configured")
    with tempfile.TemporaryDirectory(prefix="gitward-verify-") as tmp:
        work = Path(tmp)
        (work / "payload").write_bytes(commit.payload)
        (work / "signature").write_text(signature)
        if signature.lstrip().startswith(PGP_SIGNATURE):
            return _verify_openpgp(commit.sha, keys, work)
        if signature.lstrip().startswith(SSH_SIGNATURE):
            return _verify_ssh(commit.sha, keys, work)
    raise SignatureError(commit.sha, "its signature is neither OpenPGP nor SSH (X.509?)")


def _verify_openpgp(sha: str, keys: TrustedKeys, work: Path) -> Signer:
    if not keys.openpgp:
        raise SignatureError(sha, "it has an OpenPGP signature, and no OpenPGP key is trusted")
    home = work / "gnupg"
    home.mkdir(mode=0o700)
    (work / "keys.asc").write_text("".join(keys.openpgp))
    base = ["gpg", "--batch", "--no-tty", "--no-autostart", "--homedir", str(home)]
    imported = _run([*base, "--import", str(work / "keys.asc")], work, "gpg --import", check=False)
    if imported.returncode != 0:
        raise ConfigError(
            f"a trusted OpenPGP key does not import ({', '.join(keys.origins)}): "
            f"{_gpg_reason(imported.stderr)}",
            hint="export it with gpg --armor --export KEYID",
        )
    verified = _run(
        [*base, "--status-fd", "1", "--verify", str(work / "signature"), str(work / "payload")],
        work,
        "gpg --verify",
        check=False,
    )
    lines = verified.stdout.splitlines()
    status = [line.split()[1:] for line in lines if line.startswith("[GNUPG:]")]
    for words in status:
        if words and words[0] in _PGP_REFUSALS:
            raise SignatureError(sha, f"{_PGP_REFUSALS[words[0]]} (key {_key_id(words)})")
    valid = [words for words in status if words and words[0] == "VALIDSIG"]
    if verified.returncode != 0 or not valid or len(valid[0]) < 2:
        raise SignatureError(sha, f"gpg could not verify it: {_gpg_reason(verified.stderr)}")
    return Signer("openpgp", valid[0][1])


def _gpg_reason(stderr: str) -> str:
    """gpg's last complaints, without the lines that name the throwaway directory."""
    lines = [ln for ln in stderr.splitlines() if "gitward-verify-" not in ln and "Total" not in ln]
    return "; ".join(ln.removeprefix("gpg: ").strip() for ln in lines[-2:])[:300]


def _key_id(words: list[str]) -> str:
    return words[1] if len(words) > 1 else "unknown"


def _verify_ssh(sha: str, keys: TrustedKeys, work: Path) -> Signer:
    if not keys.ssh:
        raise SignatureError(sha, "it has an SSH signature, and no SSH key is trusted")
    signers = work / "allowed_signers"
    # Principals are positions in the list; git signs SSH commits in namespace "git".
    lines = [f'trusted-{i} namespaces="git" {key}' for i, key in enumerate(keys.ssh)]
    signers.write_text("\n".join(lines) + "\n")
    args = ["-f", str(signers), "-s", str(work / "signature")]
    found = _run(["ssh-keygen", "-Y", "find-principals", *args], work, "ssh-keygen", check=False)
    principal = found.stdout.strip().splitlines()[0] if found.returncode == 0 else ""
    if not principal.startswith("trusted-"):
        raise SignatureError(sha, "it was made by an SSH key that is not trusted")
    payload = (work / "payload").read_bytes()
    verify = ["ssh-keygen", "-Y", "verify", "-n", "git", "-I", principal, *args]
    checked = _run(verify, work, "ssh-keygen -Y verify", check=False, stdin=payload)
    if checked.returncode != 0:
        reason = (checked.stderr or checked.stdout).strip()[-300:]
        raise SignatureError(sha, f"the SSH signature does not verify: {reason}")
    return Signer("ssh", ssh_fingerprint(keys.ssh[int(principal.removeprefix("trusted-"))]))


def _run(
    argv: list[str], work: Path, what: str, *, check: bool = True, stdin: bytes | None = None
) -> _Done:
    """Run a verifier with a deadline, in a bare environment (no agent, no host config)."""
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(work), "LANG": "C"}
    try:
        done = subprocess.run(
            argv, input=stdin, capture_output=True, env=env, cwd=work, timeout=_TIMEOUT, check=False
        )
    except FileNotFoundError as e:
        raise ToolchainError(
            f"{argv[0]} is not installed: commit signatures cannot be checked",
            hint="install gnupg and openssh-client (scripts/bootstrap does)",
        ) from e
    except subprocess.TimeoutExpired as e:
        raise ToolchainError(f"{what} did not finish within {_TIMEOUT:g} s") from e
    result = _Done(
        done.returncode, done.stdout.decode(errors="replace"), done.stderr.decode(errors="replace")
    )
    if check and result.returncode != 0:
        raise ToolchainError(f"{what} failed: {result.stderr.strip()[-300:]}")
    return result


@dataclass(frozen=True)
class _Done:
    returncode: int
    stdout: str
    stderr: str
