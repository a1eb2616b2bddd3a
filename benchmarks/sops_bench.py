"""Speed of gitward's native SOPS decryption against the ``sops`` binary, same files.

    .venv/bin/python benchmarks/sops_bench.py [--files 50] [--keys 20]

Makes an age identity (pyrage), writes ``--files`` Kubernetes Secrets of ``--keys``
entries each, encrypts them with the pinned ``sops`` (``--encrypted-regex
'^(data|stringData)$'``, as Kubernetes users do), then decrypts every file

- with ``sops decrypt`` (one process per file, the key in ``SOPS_AGE_KEY_FILE``): the
  same-run baseline, what calling the binary from gitward would cost;
- with :func:`gitward.render.sops.decrypt` (in process, MAC checked).

Prints milliseconds per file for each and the ratio. A benchmark, not a test.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import tempfile
import time
from pathlib import Path

import pyrage

from gitward.render.sops import decrypt
from gitward.render.sops_keys import parse_identities
from gitward.render.sops_stores import SopsFormat
from gitward.toolchain import Toolchain


def _secret(index: int, keys: int) -> str:
    lines = [f"  key{k}: value-{index}-{k}-{'x' * 24}" for k in range(keys)]
    return (
        "apiVersion: v1\nkind: Secret\n"
        f"metadata:\n  name: secret-{index}\n  namespace: bench\n"
        "stringData:\n" + "\n".join(lines) + "\n"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--files", type=int, default=50)
    parser.add_argument("--keys", type=int, default=20, help="entries per Secret")
    args = parser.parse_args()
    sops = Toolchain().ensure(["sops"])["sops"]
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        identity = pyrage.x25519.Identity.generate()
        key_file = work / "key.txt"
        key_file.write_text(f"{identity}\n")
        keys = parse_identities(key_file.read_text(), "key.txt")
        env = {"PATH": os.environ["PATH"], "HOME": tmp, "SOPS_AGE_KEY_FILE": str(key_file)}
        files = []
        for index in range(args.files):
            plain = work / f"secret-{index}.yaml"
            plain.write_text(_secret(index, args.keys))
            encrypted = subprocess.run(
                [
                    str(sops),
                    "encrypt",
                    "--age",
                    str(identity.to_public()),
                    "--encrypted-regex",
                    "^(data|stringData)$",
                    str(plain),
                ],
                capture_output=True,
                text=True,
                check=True,
                env=env,
            ).stdout
            plain.write_text(encrypted)
            files.append((plain, encrypted))

        started = time.perf_counter()
        for path, _ in files:
            subprocess.run(
                [str(sops), "decrypt", str(path)], capture_output=True, check=True, env=env
            )
        binary = (time.perf_counter() - started) / len(files)

        started = time.perf_counter()
        for path, text in files:
            result = decrypt(text, SopsFormat.YAML, keys, path.name)
            assert result is not None
        native = (time.perf_counter() - started) / len(files)

    print(f"{args.files} Secrets x {args.keys} encrypted values each")
    print(f"sops decrypt (binary, one process per file): {binary * 1000:8.2f} ms/file")
    print(f"gitward native (pyrage + cryptography):     {native * 1000:8.2f} ms/file")
    print(f"native is {binary / native:.1f}x faster than running the binary")


if __name__ == "__main__":
    main()
