"""``/api/console``: what every console page needs to show times: the configured time zone and the
server's clock (the alarm's latency figures compare the page's clock with the server's)."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter
from pydantic import BaseModel, Field

from safecity.web.deps import Console, ConsoleDep, SessionDep

__all__ = ["ConsoleInfo", "console_timezone", "router"]

router = APIRouter(prefix="/api/console", tags=["console"])

DEFAULT_TZ = "Asia/Seoul"


class ConsoleInfo(BaseModel):
    timezone: str = Field(description="IANA time zone of the monitoring config (times are shown in it)")
    tz_label: str = Field(description="its abbreviation now, e.g. KST")
    server_time: float = Field(description="the server's Unix time when it answered")


def console_timezone(console: Console) -> ZoneInfo:
    """The monitoring config's ``timezone`` (the event store's policy holds it), else Asia/Seoul."""
    tz = getattr(getattr(console.services.events, "policy", None), "tz", None)
    return tz if isinstance(tz, ZoneInfo) else ZoneInfo(DEFAULT_TZ)


@router.get("", response_model=ConsoleInfo)
def console_info(console: ConsoleDep, session: SessionDep) -> dict[str, Any]:
    """The time zone the console shows times in (with its label) and the server's clock."""
    tz = console_timezone(console)
    now = console.clock()
    return {
        "timezone": tz.key,
        "tz_label": datetime.fromtimestamp(now, tz).tzname() or tz.key,
        "server_time": now,
    }
