"""The installation's Ed25519 evidence key: created on first use in the data folder, owner-only.

The private key is ``<home>/keys/evidence-ed25519.pem`` (PKCS#8 PEM, mode 0600, folder 0700); the
public key goes into every package's manifest and can be exported with ``safecity evidence
public-key`` so that a recipient can check packages against a key they got separately.

Example:
    >>> import tempfile
    >>> from pathlib import Path
    >>> home = Path(tempfile.mkdtemp())
    >>> key = load_or_create_key(home)
    >>> public_key_pem(key).startswith(b"-----BEGIN PUBLIC KEY-----")
    True
    >>> oct(key_path(home).stat().st_mode & 0o777)
    '0o600'
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from safecity.errors import ConfigError, InputError

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

__all__ = ["key_path", "load_or_create_key", "load_public_key", "public_key_pem"]

_NAME = "evidence-ed25519.pem"


def _crypto_missing(exc: ImportError) -> ConfigError:
    return ConfigError(
        f"evidence signing needs the 'cryptography' package ({exc}); install safecity with the web extra: "
        "pip install 'safecity[web]'"
    )


def key_path(home: Path) -> Path:
    """Where the private key of the installation at ``home`` lives."""
    return Path(home) / "keys" / _NAME


def load_or_create_key(home: Path) -> Ed25519PrivateKey:
    """The installation's private key; generated (and written with mode 0600) if there is none.

    Raises:
        ConfigError: the key file is unreadable, not an Ed25519 key, or readable by others.
    """
    try:
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    except ImportError as exc:
        raise _crypto_missing(exc) from exc
    path = key_path(home)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        os.chmod(path.parent, 0o700)
        key = Ed25519PrivateKey.generate()
        pem = key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process created it first: use theirs
            return load_or_create_key(home)
        with os.fdopen(fd, "wb") as f:
            f.write(pem)
        return key
    mode = path.stat().st_mode & 0o777
    if mode & 0o077:
        raise ConfigError(
            f"evidence key {path} is readable by others (mode {oct(mode)}); run: chmod 600 {path}"
        )
    try:
        loaded = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except (ValueError, OSError) as exc:
        raise ConfigError(f"cannot read the evidence key {path}: {exc}") from exc
    if not isinstance(loaded, Ed25519PrivateKey):
        raise ConfigError(f"evidence key {path} is not an Ed25519 key; move it away and a new one is made")
    return loaded


def public_key_pem(key: Ed25519PrivateKey) -> bytes:
    """The public half of ``key`` as SubjectPublicKeyInfo PEM."""
    from cryptography.hazmat.primitives import serialization

    return key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def load_public_key(pem: bytes, source: str) -> Ed25519PublicKey:
    """Parse an Ed25519 public key (PEM); ``source`` names it in errors.

    Raises:
        InputError: not a PEM Ed25519 public key.
    """
    try:
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
    except ImportError as exc:
        raise _crypto_missing(exc) from exc
    try:
        key = serialization.load_pem_public_key(pem)
    except ValueError as exc:
        raise InputError(f"{source} is not a PEM public key: {exc}") from exc
    if not isinstance(key, Ed25519PublicKey):
        raise InputError(f"{source} is not an Ed25519 public key")
    return key
