"""How the collection's action plugins word progress: sizes people read at a glance."""
from __future__ import annotations


def human(size: float) -> str:
    """1536 -> '1.5 KiB'; bytes and KiB without decimals, MiB and GiB with one."""
    for unit in ("B", "KiB", "MiB"):
        if size < 1024:
            return f"{size:.0f} {unit}" if unit != "MiB" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} GiB"
