"""Evaluate Jsonnet files in a child process: run as a script by :mod:`gitward.render.jsonnet`.

Why a child: an evaluation inside gitward's process could not be stopped (a binding call
holds the thread until it returns, and a Jsonnet program may loop forever with
``tailstrict``), could grow gitward's memory without bound, and would share gitward's
address space with a Go runtime. In a child, the parent's deadline kills it with its
process group, its output is bounded by the parent, and its address space is capped here.

It imports only the standard library and go-jsonnet's binding (``_gojsonnet``) and runs
with ``python -I``, so nothing of gitward is loaded. The request is one JSON argument:
``root`` (the repository, resolved), ``files`` (absolute paths of the files to evaluate),
``libs`` (absolute library directories), ``ext_vars`` and ``tlas`` (lists of
``[name, value, is_code]``). Every import, ``importstr`` and ``importbin`` is resolved
by :func:`_importer`, which refuses an absolute path or a path leading outside the
repository, so a Jsonnet file can read nothing but the repository. The answer on
standard output is a JSON list of ``[file, value]``; an error goes to standard error
with exit status 1.
"""

from __future__ import annotations

import json
import os
import resource
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

ADDRESS_SPACE = 4 * 1024 * 1024 * 1024  # bytes of virtual memory (the Go runtime reserves some)
MAX_IMPORT_BYTES = 16 * 1024 * 1024


class ImportRefusedError(Exception):
    """Raised inside the import callback; go-jsonnet reports it with the import's position."""


def _inside(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip("/") + "/")


def _importer(
    root: str, libs: list[str], refused: list[str]
) -> Callable[[str, str], tuple[str, bytes]]:
    """The import callback; each refusal is also kept in ``refused``: the binding's error
    for an exception raised in a callback is not always readable."""

    def load(base: str, relative: str) -> tuple[str, bytes]:
        try:
            return _load(base, relative)
        except ImportRefusedError as e:
            refused.append(str(e))
            raise

    def _load(base: str, relative: str) -> tuple[str, bytes]:
        if Path(relative).is_absolute():
            raise ImportRefusedError(
                f"import {relative!r} is an absolute path; imports must be relative "
                "and stay inside the repository"
            )
        for directory in [base, *libs]:
            found = os.path.realpath(Path(directory) / relative)
            if not _inside(found, root):
                raise ImportRefusedError(
                    f"import {relative!r} leads outside the repository (to {found})"
                )
            file = Path(found)
            if file.is_file():
                if file.stat().st_size > MAX_IMPORT_BYTES:
                    raise ImportRefusedError(f"import {relative!r} is larger than 16 MiB")
                return found, file.read_bytes()
        raise ImportRefusedError(
            f"import {relative!r} not found next to the importing file or in the libs"
        )

    return load


def _variables(entries: list[list[Any]]) -> tuple[dict[str, str], dict[str, str]]:
    strings = {name: value for name, value, code in entries if not code}
    codes = {name: value for name, value, code in entries if code}
    return strings, codes


def main(argv: list[str]) -> int:
    resource.setrlimit(resource.RLIMIT_AS, (ADDRESS_SPACE, ADDRESS_SPACE))
    import _gojsonnet  # type: ignore[import-not-found]  # noqa: PLC0415 - after the limit, so the Go runtime starts under it

    request = json.loads(argv[1])
    root = request["root"]
    ext_vars, ext_codes = _variables(request["ext_vars"])
    tla_vars, tla_codes = _variables(request["tlas"])
    results = []
    for file in request["files"]:
        refused: list[str] = []
        try:
            output = _gojsonnet.evaluate_file(
                file,
                ext_vars=ext_vars,
                ext_codes=ext_codes,
                tla_vars=tla_vars,
                tla_codes=tla_codes,
                import_callback=_importer(root, request["libs"], refused),
            )
        except (RuntimeError, UnicodeDecodeError) as e:
            message = refused[0] if refused else str(e).replace(root.rstrip("/") + "/", "")
            sys.stderr.write(f"{os.path.relpath(file, root)}: {message}\n")
            return 1
        results.append([os.path.relpath(file, root), json.loads(output)])
    sys.stdout.write(json.dumps(results))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
