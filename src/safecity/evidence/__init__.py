"""Signed evidence export: packages of clips, snapshots and event records for police or courts.

- :mod:`safecity.evidence.keys`: the installation's Ed25519 signing key (created on first use, 0600).
- :mod:`safecity.evidence.package`: build a package (watermarked media, ``events.json``, a manifest of
  SHA-256 hashes, its signature).
- :mod:`safecity.evidence.verify`: check a package offline and name every altered, added or removed file.

The format is described in ``docs/evidence.md``.
"""

from __future__ import annotations

__all__: list[str] = []
