"""How the collection's action plugins word progress: sizes people read at a glance."""
from __future__ import annotations


def human(size: float) -> str:
    """1536 -> '1.5 KiB'; bytes and KiB without decimals, MiB and GiB with one."""
    for unit in ("B", "KiB", "MiB"):
        if size < 1024:
            return f"{size:.0f} {unit}" if unit != "MiB" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} GiB"


def moving(host: str, verb: str, name: str, done: int, size: int, seconds: float) -> str:
    """A chunked copy under way: 'host: copying x.tar: 1.0 MiB of 4.0 MiB (25 %), 1.0 MiB/s'."""
    return (f"{host}: {verb} {name}: {human(done)} of {human(size)} ({100 * done / max(size, 1):.0f} %), "
            f"{human(done / max(seconds, 1e-3))}/s")


def moved(host: str, verb: str, name: str, size: int, seconds: float) -> str:
    """A chunked copy done and verified: 'host: copied x.tar: 4.0 MiB in 4.0 s (1.0 MiB/s), SHA-256 verified'."""
    return (f"{host}: {verb} {name}: {human(size)} in {seconds:.1f} s ({human(size / max(seconds, 1e-3))}/s), "
            "SHA-256 verified")
