"""Base class of every wire Struct.

Wire types accept unknown fields (msgspec's default: a newer peer may send more) and every field added after
the first release must have a default, so mixed versions meet during a rolling update.
"""

from __future__ import annotations

import msgspec

# A value a setting, an option or a config override may take on the wire.
Scalar = str | int | float | bool | None


class Wire(msgspec.Struct, kw_only=True, omit_defaults=False):
    pass
