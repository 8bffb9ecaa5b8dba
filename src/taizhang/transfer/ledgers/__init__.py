"""The ledgers that plug into the engine, by code."""

from __future__ import annotations

from taizhang.core.errors import NotVisible

from ..engine import Ledger
from .assignments import AssignmentLedger
from .establishments import EstablishmentLedger
from .regions import LocalRegionLedger, RoadSectionLedger

LEDGERS: dict[str, type[Ledger]] = {
    cls.code: cls for cls in (EstablishmentLedger, AssignmentLedger, LocalRegionLedger, RoadSectionLedger)
}


def ledger_class(code: str) -> type[Ledger]:
    try:
        return LEDGERS[code]
    except KeyError:
        raise NotVisible("台账") from None


__all__ = ["LEDGERS", "AssignmentLedger", "EstablishmentLedger", "LocalRegionLedger", "RoadSectionLedger", "ledger_class"]
