"""translate_error: library exceptions (real zeep/aiohttp/onvif types) become PtzError subclasses."""

from __future__ import annotations

import asyncio

import pytest
import zeep.exceptions
from lxml.etree import QName
from onvif.exceptions import ONVIFError

from safecity.errors import (
    PtzAuthError,
    PtzError,
    PtzUnknownPresetError,
    PtzUnreachableError,
    PtzUnsupportedError,
)
from safecity.ptz.client import AsyncOnvifPtz, translate_error

TER = "http://www.onvif.org/ver10/error"


def _fault(reason: str, *subs: str) -> zeep.exceptions.Fault:
    return zeep.exceptions.Fault(reason, code="env:Sender", subcodes=[QName(TER, s) for s in subs])


@pytest.mark.parametrize(
    ("exc", "kind", "words"),
    [
        (_fault("Sender not Authorized", "NotAuthorized"), PtzAuthError, "refused the ONVIF credentials"),
        (zeep.exceptions.TransportError(status_code=401), PtzAuthError, "HTTP 401"),
        (_fault("no PTZ", "ActionNotSupported", "PTZNotSupported"), PtzUnsupportedError, "not supported"),
        (
            _fault("token 'x' does not exist", "InvalidArgVal", "NoToken"),
            PtzUnknownPresetError,
            "no such preset",
        ),
        (
            _fault("out of range", "InvalidArgVal", "InvalidPosition"),
            PtzError,
            "InvalidArgVal/InvalidPosition",
        ),
        (TimeoutError(), PtzUnreachableError, "no answer within 2.5 s"),
        (ConnectionRefusedError(111, "Connection refused"), PtzUnreachableError, "cannot connect"),
        (
            ONVIFError("Device doesn`t support service: ptz with namespace x"),
            PtzUnsupportedError,
            "no PTZ service",
        ),
        (ValueError("odd"), PtzError, "failed: odd"),
    ],
)
def test_translate_error(exc: BaseException, kind: type[PtzError], words: str) -> None:
    err = translate_error(exc, "cam-1 (10.0.0.9:80)", "GetStatus", 2.5)
    assert type(err) is kind
    assert "camera cam-1 (10.0.0.9:80): GetStatus" in str(err)
    assert words in str(err)


def test_translate_error_looks_through_the_cause_chain() -> None:
    try:
        try:
            raise _fault("Sender not Authorized", "NotAuthorized")
        except zeep.exceptions.Fault as inner:
            raise ONVIFError(inner) from inner
    except ONVIFError as outer:
        assert isinstance(translate_error(outer, "c", "connect", 1.0), PtzAuthError)


def test_operations_need_a_connection_first() -> None:
    client = AsyncOnvifPtz("127.0.0.1", 80, "u", "p", name="cam-9")
    with pytest.raises(PtzError, match=r"cam-9.*not connected"):
        asyncio.run(client.status())
