"""Check an evidence package offline and name exactly what was altered, added or removed.

:func:`verify_package` accepts the package folder or its ``.zip``. It checks, in order:

1. ``manifest.json`` and ``manifest.sig`` exist and the manifest is a safecity evidence manifest;
2. the signature of the manifest's exact bytes, with the public key embedded in it, and, when a trusted
   public key file is given, that the embedded key is that key (else anyone could re-sign a forgery);
3. every file listed in the manifest exists with its SHA-256 (``altered`` / ``removed``), and no other
   file is present (``added``).

Every finding names the file. Nothing needs the network or the installation that made the package.
"""

from __future__ import annotations

import base64
import hashlib
import json
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Literal

from safecity.errors import InputError
from safecity.evidence.keys import load_public_key
from safecity.evidence.package import FORMAT

__all__ = ["Finding", "VerifyReport", "verify_package"]

Kind = Literal["altered", "added", "removed", "signature", "untrusted_key", "format"]
_OWN = ("manifest.json", "manifest.sig")


@dataclass(frozen=True, slots=True)
class Finding:
    kind: Kind
    path: str
    message: str


@dataclass(slots=True)
class VerifyReport:
    """``ok`` when the signature holds and every file matches the manifest."""

    package: str
    manifest: dict[str, Any] = field(default_factory=dict)
    signature_ok: bool = False
    key_trusted: bool | None = None  # None: no trusted key given
    files_checked: int = 0
    findings: list[Finding] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.signature_ok and self.key_trusted is not False and not self.findings


class _Tree:
    """Read access to the files of a package folder or zip (paths relative to the package root)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._zip: zipfile.ZipFile | None = None
        self._prefix = ""
        if path.is_file():
            try:
                self._zip = zipfile.ZipFile(path)
            except zipfile.BadZipFile as exc:
                raise InputError(f"{path} is neither a package folder nor a zip file: {exc}") from exc
            names = [n for n in self._zip.namelist() if not n.endswith("/")]
            tops = {n.split("/", 1)[0] for n in names}
            if len(tops) == 1 and all("/" in n for n in names):
                self._prefix = tops.pop() + "/"
        elif not path.is_dir():
            raise InputError(f"no evidence package at {path}; give the package folder or its .zip")

    def names(self) -> set[str]:
        if self._zip is not None:
            return {n.removeprefix(self._prefix) for n in self._zip.namelist() if not n.endswith("/")}
        return {p.relative_to(self.path).as_posix() for p in self.path.rglob("*") if p.is_file()}

    @contextmanager
    def open(self, name: str) -> Iterator[IO[bytes]]:
        if self._zip is not None:
            with self._zip.open(self._prefix + name) as f:
                yield f
        else:
            with (self.path / name).open("rb") as f:
                yield f

    def read(self, name: str, limit: int = 64 << 20) -> bytes:
        with self.open(name) as f:
            data = f.read(limit + 1)
        if len(data) > limit:
            raise InputError(f"{name} in {self.path} is larger than {limit} bytes; not a safecity manifest")
        return data

    def sha256(self, name: str) -> str:
        h = hashlib.sha256()
        with self.open(name) as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                h.update(chunk)
        return h.hexdigest()

    def close(self) -> None:
        if self._zip is not None:
            self._zip.close()


def verify_package(path: Path, *, trusted_key: Path | None = None) -> VerifyReport:
    """Check the package at ``path`` (folder or zip); see the module docstring.

    Raises:
        InputError: ``path`` is not a folder or zip, or ``trusted_key`` is not an Ed25519 PEM key.
    """
    from cryptography.exceptions import InvalidSignature

    trusted = None
    if trusted_key is not None:
        trusted = load_public_key(Path(trusted_key).read_bytes(), f"trusted key file {trusted_key}")
    report = VerifyReport(package=str(path))
    tree = _Tree(Path(path))
    try:
        present = tree.names()
        for own in _OWN:
            if own not in present:
                report.findings.append(
                    Finding("removed", own, f"{own} is missing: the package cannot be checked")
                )
        if report.findings:
            return report
        body = tree.read("manifest.json")
        try:
            manifest = json.loads(body)
            if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
                raise ValueError(f"format is not {FORMAT}")
            listed = {str(f["path"]): str(f["sha256"]) for f in manifest["files"]}
            embedded = load_public_key(
                str(manifest["public_key"]).encode("ascii"), "the manifest's public key"
            )
            sig = base64.b64decode(tree.read("manifest.sig").strip(), validate=True)
        except (ValueError, KeyError, TypeError, InputError) as exc:
            report.findings.append(
                Finding("format", "manifest.json", f"manifest.json or manifest.sig is not valid: {exc}")
            )
            return report
        report.manifest = manifest
        try:
            embedded.verify(sig, body)
            report.signature_ok = True
        except InvalidSignature:
            report.findings.append(
                Finding(
                    "signature",
                    "manifest.json",
                    "manifest.json was altered (or manifest.sig replaced): the signature does not match",
                )
            )
        if trusted is not None:
            report.key_trusted = trusted.public_bytes_raw() == embedded.public_bytes_raw()
            if not report.key_trusted:
                report.findings.append(
                    Finding(
                        "untrusted_key",
                        "manifest.json",
                        f"the package is signed with another key than the trusted key {trusted_key}",
                    )
                )
        for name in sorted(listed):
            if name not in present:
                report.findings.append(
                    Finding("removed", name, f"{name} is listed in the manifest but missing")
                )
                continue
            report.files_checked += 1
            if tree.sha256(name) != listed[name]:
                report.findings.append(
                    Finding("altered", name, f"{name} was altered: its SHA-256 differs from the manifest")
                )
        for name in sorted(present - set(listed) - set(_OWN)):
            report.findings.append(Finding("added", name, f"{name} was added: it is not in the manifest"))
        return report
    finally:
        tree.close()
