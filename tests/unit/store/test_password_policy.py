"""Password policy and the one normalisation (NFC, no stripping)."""

from __future__ import annotations

import unicodedata

import pytest

from safecity.errors import InputError
from safecity.store.password_policy import check_password, common_passwords, normalize_password


@pytest.mark.parametrize(
    ("password", "needle"),
    [
        ("short", "at least 8"),
        ("12345678", "most common"),
        ("password", "most common"),
        ("PassWord", "most common"),  # case-insensitive
        ("aaaaaaaa", "different character"),
        ("abababab", "different character"),
        ("x" * 513 + "yzw", "at most 512"),
        ("kim.lee.park", "user name"),
    ],
)
def test_weak_passwords_are_refused(password: str, needle: str) -> None:
    with pytest.raises(InputError, match=needle):
        check_password(password, "Kim.Lee.Park")


def test_good_passphrase_passes() -> None:
    check_password("correct horse battery", "kim")
    check_password(" 구로 야간 순찰 ", "kim")


def test_list_is_the_shipped_one() -> None:
    common = common_passwords()
    assert len(common) == 11_611 and {"12345678", "password", "iloveyou"} <= common
    assert all(len(p) >= 8 for p in common)


def test_normalisation_is_nfc_only() -> None:
    nfd = unicodedata.normalize("NFD", " 한글 비밀번호 ")
    assert nfd != " 한글 비밀번호 "
    assert normalize_password(nfd) == " 한글 비밀번호 "  # same password however it was typed
    assert normalize_password("  spaces kept  ") == "  spaces kept  "
