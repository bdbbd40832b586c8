"""Filters of adhoc.dask_cluster: the workers the scheduler counts, against those the inventory expects."""
from __future__ import annotations


def dask_hosts_missing(expected: dict, joined: list, unreachable: list) -> list[str]:
    """The machines of `expected` ({host: [worker names]}) that answered (not in `unreachable`) but have a
    worker name the scheduler does not count (`joined`), in the inventory's order."""
    counted = {str(name) for name in joined}
    return [host for host, names in expected.items()
            if host not in unreachable and not {str(name) for name in names} <= counted]


class FilterModule:
    def filters(self):
        return {"dask_hosts_missing": dask_hosts_missing}
