"""How long to wait before polling a failing source again. Pure."""

from __future__ import annotations

__all__ = ["backoff_delay"]


def backoff_delay(failures: int, *, base: float, cap: float) -> float:
    """Seconds to wait after ``failures`` failures in a row: ``base × 2^(failures-1)``, at most
    ``cap``; 0 when nothing has failed. (1 → base, 2 → 2·base, 3 → 4·base, …)."""
    if base < 0 or cap < 0:
        raise ValueError(f"base and cap must not be negative (got base={base}, cap={cap})")
    if failures <= 0:
        return 0.0
    # 2.0 ** 1100 would overflow a float; any exponent past 1000 is capped anyway.
    return float(min(cap, base * 2.0 ** min(failures - 1, 1000)))
