"""Filter of adhoc.dask_cluster: whether a Python environment matches the cluster's versions.

The cluster's versions are those up.yml collects from the running cluster (the summary and connection.json); the
environment's are what the collection's interpreter probe printed there (roles/dask/vars/main.yml,
__dask_build_probe). The packages compared, and which of them must match, are those of
roles/dask_scheduler/files/dask_versions.py, which compares the cluster's own components.
"""
from __future__ import annotations

import json
from collections.abc import Mapping

REQUIRED = ("python", "dask", "distributed", "cloudpickle", "msgpack", "tornado", "toolz")
OPTIONAL = ("numpy", "pandas")


def _comparable(package: str, version):
    # Python's patch level does not change pickles or protocols; its major.minor does.
    if package == "python" and version:
        return ".".join(str(version).split(".")[:2])
    return version


def dask_version_mismatches(cluster: Mapping, probe: str | Mapping) -> dict:
    """`required` and `optional`: the packages whose versions differ; `table`: one line per package compared."""
    environment = json.loads(probe) if isinstance(probe, str) else dict(probe)
    here = dict(environment.get("packages", {}), python=environment.get("python"))
    table = [f"{'package':<12} {'cluster':<20} {'this environment':<20}"]
    mismatches = []
    for package in REQUIRED + OPTIONAL:
        theirs, ours = cluster.get(package), here.get(package)
        differs = _comparable(package, theirs) != _comparable(package, ours)
        mismatches += [package] if differs else []
        table.append(f"{package:<12} {theirs or '(none)':<20} {ours or '(none)':<20}{'  differs' if differs else ''}")
    return {"required": [p for p in mismatches if p in REQUIRED],
            "optional": [p for p in mismatches if p in OPTIONAL],
            "table": "\n".join(table)}


class FilterModule:
    def filters(self):
        return {"dask_version_mismatches": dask_version_mismatches}
