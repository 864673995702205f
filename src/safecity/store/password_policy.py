"""The password policy and the one normalisation of passwords, for the CLI and the API alike.

Normalisation: a password is taken exactly as typed - no stripping of spaces (a passphrase may begin
or end with one, and stripping in one client but not another made such passwords unusable) - and
brought to Unicode NFC, so that Korean text typed as composed syllables or as separate jamo (macOS
input methods send NFD) is the same password. The CLI removes only the line ending that ends the
password line on stdin.

Policy (NIST SP 800-63B style): at least :data:`MIN_PASSWORD_LEN` characters, at most
:data:`MAX_PASSWORD_LEN`, at least :data:`MIN_DISTINCT` different characters, not the user name, and
not one of the common passwords in ``data/common-passwords.txt`` (case-insensitive; its header names
the source).

Example:
    >>> check_password("correct horse battery", "kim")
    >>> try:
    ...     check_password("password1", "kim")
    ... except Exception as exc:
    ...     print(exc)
    password is one of the 11,611 most common passwords; choose a passphrase of a few unrelated words
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache
from importlib import resources

from safecity.errors import InputError

__all__ = [
    "MAX_PASSWORD_LEN",
    "MIN_DISTINCT",
    "MIN_PASSWORD_LEN",
    "check_password",
    "common_passwords",
    "normalize_password",
]

MIN_PASSWORD_LEN = 8
MAX_PASSWORD_LEN = 512
MIN_DISTINCT = 4


def normalize_password(password: str) -> str:
    """The password as it is hashed and checked: unchanged except Unicode NFC (no stripping)."""
    return unicodedata.normalize("NFC", password)


@lru_cache(maxsize=1)
def common_passwords() -> frozenset[str]:
    """The shipped list of common passwords, lower-cased."""
    text = resources.files("safecity.store").joinpath("data/common-passwords.txt").read_text("utf-8")
    return frozenset(line.lower() for line in text.splitlines() if line and not line.startswith("# "))


def check_password(password: str, username: str | None = None) -> None:
    """Raise InputError saying what is wrong unless ``password`` meets the policy."""
    pw = normalize_password(password)
    if len(pw) < MIN_PASSWORD_LEN:
        raise InputError(
            f"password must have at least {MIN_PASSWORD_LEN} characters, but got {len(pw)}; "
            "choose a longer passphrase"
        )
    if len(pw) > MAX_PASSWORD_LEN:
        raise InputError(f"password must have at most {MAX_PASSWORD_LEN} characters, but got {len(pw)}")
    if len(set(pw)) < MIN_DISTINCT:
        raise InputError(
            f"password uses only {len(set(pw))} different character(s); use at least {MIN_DISTINCT}, "
            "e.g. a passphrase of a few unrelated words"
        )
    if username and pw.casefold() == username.casefold():
        raise InputError("password must not be the user name")
    common = common_passwords()
    if pw.lower() in common:
        raise InputError(
            f"password is one of the {len(common):,} most common passwords; "
            "choose a passphrase of a few unrelated words"
        )
