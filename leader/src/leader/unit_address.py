"""Where a unit's agent listens: what the store answers (db.units) and the agent client dials."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class UnitAddress:
    name: str
    address: str
    port: int

    @property
    def base_url(self) -> str:
        host = f"[{self.address}]" if ":" in self.address else self.address
        return f"http://{host}:{self.port}"
