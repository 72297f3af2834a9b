"""Cache modes, chosen per server."""

from __future__ import annotations

from enum import StrEnum


class CacheMode(StrEnum):
    """How the server uses its cache.

    * ``record``: answer hits from the cache; simulate misses and store them.
    * ``replay``: answer only from the cache; a miss is an error that explains itself.
    * ``refresh``: always simulate, overwriting what is stored.
    * ``off``: always simulate, store nothing.
    """

    RECORD = "record"
    REPLAY = "replay"
    REFRESH = "refresh"
    OFF = "off"

    @property
    def reads(self) -> bool:
        """Whether this mode answers from stored entries."""
        return self in (CacheMode.RECORD, CacheMode.REPLAY)

    @property
    def writes(self) -> bool:
        """Whether this mode stores new replies."""
        return self in (CacheMode.RECORD, CacheMode.REFRESH)

    @property
    def simulates(self) -> bool:
        """Whether this mode may call a simulator."""
        return self is not CacheMode.REPLAY
