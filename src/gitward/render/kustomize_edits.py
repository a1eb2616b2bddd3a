"""Argo CD's ``source.kustomize`` options, applied without touching the checkout.

Argo CD runs ``kustomize edit`` in its copy of the repository. gitward's checkouts are
read-only and shared between renders, so it writes a small kustomization of its own in
the render's private temporary directory instead: it has the application's directory as
its only resource and sets what the options ask (``images``, ``namePrefix``,
``nameSuffix``, ``commonLabels``, ``commonAnnotations``, ``namespace``, ``patches``).
Kustomize applies an overlay's settings to everything its resource produces, which is
what the edited kustomization would have done. A directory given as a resource may sit
outside the overlay even with the root-only load restrictor, so nothing is copied,
except the patch files named by ``path``: those are read (confined to the repository,
relative to the application directory, as Argo CD reads them) and copied beside the
overlay, because a file must be under the kustomization that loads it.

Used by :mod:`gitward.render.kustomize` when :attr:`KustomizeOptions.edits` is true.
"""

from __future__ import annotations

import json
import os
import posixpath
import re
from pathlib import Path
from typing import Any

from gitward.errors import RenderError
from gitward.model import KustomizeOptions
from gitward.paths import confine

_TAG = re.compile(r"^(?P<image>.+?)(?::(?P<tag>[^:/]+))?$")


def image_entry(spec: str) -> dict[str, str]:
    """A kustomization ``images`` entry from ``kustomize edit set image`` syntax:
    ``name:tag``, ``name@digest``, ``name=new-name[:tag|@digest]``."""
    name, sep, rest = spec.partition("=")
    target = rest if sep else spec
    image, at, digest = target.partition("@")
    match = _TAG.match(image)
    if not spec.strip() or match is None or (sep and not name):
        raise RenderError(
            f"kustomize image {spec!r} is not like name:tag, name@digest or name=new:tag",
            location="kustomize.images",
        )
    entry = {"name": name if sep else match["image"]}
    if sep and match["image"] != name:
        entry["newName"] = match["image"]
    if at:
        entry["digest"] = digest
    elif match["tag"]:
        entry["newTag"] = match["tag"]
    return entry


def _patch(entry: dict[str, Any], root: Path, app_path: str, overlay: Path, index: int) -> Any:
    """The patch entry for the overlay; a ``path`` patch is copied beside it."""
    path = entry.get("path")
    if path is None:
        return entry
    relative = posixpath.normpath(posixpath.join(app_path, path))
    source = confine(root, relative, what=f"kustomize.patches[{index}].path {path!r}")
    if not source.is_file():
        raise RenderError(
            f"kustomize.patches[{index}].path {path!r} does not exist (looked for {relative})",
            location=app_path,
            hint="patch paths are relative to the application path, as in Argo CD",
        )
    copied = f"patch-{index}{source.suffix}"
    (overlay / copied).write_bytes(source.read_bytes())
    return {**entry, "path": copied}


def write_overlay(
    overlay: Path, build_dir: Path, options: KustomizeOptions, root: Path, app_path: str
) -> Path:
    """Write the overlay kustomization into the new directory ``overlay``; return it."""
    overlay.mkdir(parents=True)
    kustomization: dict[str, Any] = {
        "apiVersion": "kustomize.config.k8s.io/v1beta1",
        "kind": "Kustomization",
        # kustomize refuses an absolute root; a relative one may climb out of the overlay.
        "resources": [os.path.relpath(build_dir, overlay)],
    }
    optional = {
        "namePrefix": options.name_prefix,
        "nameSuffix": options.name_suffix,
        "namespace": options.namespace,
        "commonLabels": dict(options.common_labels) or None,
        "commonAnnotations": dict(options.common_annotations) or None,
        "images": [image_entry(image) for image in options.images] or None,
        "patches": [
            _patch(json.loads(text), root, app_path, overlay, index)
            for index, text in enumerate(options.patches)
        ]
        or None,
    }
    kustomization.update({key: value for key, value in optional.items() if value})
    # JSON is YAML; kustomize reads it as the kustomization file.
    (overlay / "kustomization.yaml").write_text(json.dumps(kustomization, indent=1))
    return overlay
