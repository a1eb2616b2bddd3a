"""Real signing keys and signed commits for the trust tests.

:class:`Signers` makes, once per session, two OpenPGP keys with the real ``gpg`` (in a
private ``GNUPGHOME``) and two SSH keys with the real ``ssh-keygen``: in each pair the
first is the one the apps trust, the second a stranger's. :func:`commit_signed` commits
in a work tree with ``git commit -S`` exactly as a developer does (``gpg.format ssh``
for SSH keys).
"""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

How = Literal["gpg", "gpg-stranger", "ssh", "ssh-stranger", "unsigned"]


def _run(argv: list[str], env: dict[str, str] | None = None, cwd: Path | None = None) -> str:
    done = subprocess.run(
        argv, env={**os.environ, **(env or {})}, cwd=cwd, capture_output=True, check=False
    )
    assert done.returncode == 0, f"{argv}: {done.stderr.decode()}"
    return done.stdout.decode().strip()


@dataclass(frozen=True)
class Signers:
    home: Path  # GNUPGHOME holding both OpenPGP secret keys
    gpg_fpr: str
    gpg_public: str  # armored
    stranger_fpr: str
    ssh_key: Path  # private key file; the public key is beside it (.pub)
    ssh_public: str
    stranger_ssh_key: Path

    @classmethod
    def make(cls, root: Path) -> Signers:
        home = root / "gnupg"
        home.mkdir(mode=0o700, parents=True)
        env = {"GNUPGHOME": str(home)}
        fprs = []
        for who in ("Alice <alice@example.com>", "Mallory <mallory@example.com>"):
            gen = ["gpg", "--batch", "--passphrase", "", "--quick-gen-key", who]
            _run([*gen, "ed25519", "sign", "never"], env)
            listing = _run(["gpg", "--batch", "--with-colons", "--list-secret-keys", who], env)
            fprs.append(next(ln.split(":")[9] for ln in listing.splitlines() if ln[:4] == "fpr:"))
        public = _run(["gpg", "--batch", "--armor", "--export", fprs[0]], env)
        keys = []
        for name in ("alice", "mallory"):
            key = root / f"{name}_ed25519"
            _run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", name, "-f", str(key)])
            keys.append(key)
        ssh_public = keys[0].with_suffix(".pub").read_text().strip()
        return cls(home, fprs[0], public + "\n", fprs[1], keys[0], ssh_public, keys[1])

    def stop(self) -> None:
        """Stop the gpg-agent key generation started for this home (and only it)."""
        subprocess.run(
            ["gpgconf", "--kill", "gpg-agent"],
            env={**os.environ, "GNUPGHOME": str(self.home)},
            check=False,
            capture_output=True,
        )

    def git_args(self, how: How) -> list[str]:
        """``git -c ...`` options that make ``commit -S`` sign as ``how`` says."""
        if how == "unsigned":
            return []
        if how.startswith("gpg"):
            fpr = self.gpg_fpr if how == "gpg" else self.stranger_fpr
            return ["-c", "gpg.format=openpgp", "-c", f"user.signingkey={fpr}"]
        key = self.ssh_key if how == "ssh" else self.stranger_ssh_key
        return ["-c", "gpg.format=ssh", "-c", f"user.signingkey={key}"]

    def env(self) -> dict[str, str]:
        return {
            "GNUPGHOME": str(self.home),
            "GIT_AUTHOR_NAME": "Alice",
            "GIT_AUTHOR_EMAIL": "alice@example.com",
            "GIT_COMMITTER_NAME": "Alice",
            "GIT_COMMITTER_EMAIL": "alice@example.com",
            "GIT_CONFIG_NOSYSTEM": "1",
            "GIT_CONFIG_GLOBAL": os.devnull,
        }


def commit_signed(
    signers: Signers, work: Path, files: dict[str, str], how: How, message: str = "change"
) -> str:
    """Write ``files``, commit them in ``work`` signed as ``how`` says; return the SHA."""
    for name, text in files.items():
        path = work / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    env = signers.env()
    _run(["git", "add", "-A"], env, work)
    sign = ["-S"] if how != "unsigned" else []
    args = ["git", *signers.git_args(how), "commit", "-q", "--allow-empty", *sign, "-m", message]
    _run(args, env, work)
    return _run(["git", "rev-parse", "HEAD"], env, work)


def tampered(work: Path, sha: str) -> str:
    """A copy of signed commit ``sha`` with its message changed but its signature kept,
    written into the repository and checked out on a branch ``tampered``: what an
    attacker who rewrote history would push."""
    raw = subprocess.run(
        ["git", "cat-file", "commit", sha], cwd=work, capture_output=True, check=True
    ).stdout
    assert b"\ngpgsig " in raw, "the commit must be signed"
    # Headers end at the first blank line (a blank line inside gpgsig is " ").
    forged = raw.replace(b"\n\n", b"\n\nforged ", 1)
    new = (
        subprocess.run(
            ["git", "hash-object", "-t", "commit", "-w", "--stdin"],
            cwd=work,
            input=forged,
            capture_output=True,
            check=True,
        )
        .stdout.decode()
        .strip()
    )
    subprocess.run(["git", "branch", "-f", "tampered", new], cwd=work, check=True)
    return new
