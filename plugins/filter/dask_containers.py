"""Filters of adhoc.dask_cluster: is a container already what the cluster asks of it?

Every container the collection creates carries a label with the hash of everything it was created from (image,
command, environment, mounts, healthcheck, restart policy, the other labels), as Compose does with its
config-hash label. A re-run compares that hash, the image ID and the state with what the machine's first
contact listed, on the controller: a machine whose containers all match needs no module run at all. Anything
else (a changed setting, a new certificate, a new image under the same tag, a stopped or missing container)
goes through community.docker.docker_container as before, which recreates what differs.
"""
from __future__ import annotations

import hashlib
import json


def dask_spec_hash(spec) -> str:
    """SHA-1 of a container's spec as canonical JSON (sorted keys), the value of its spec label."""
    return hashlib.sha1(json.dumps(spec, sort_keys=True, default=str).encode()).hexdigest()


def dask_spec_labels(spec: dict, label: str) -> dict:
    """The labels a container created from `spec` carries: the spec's own, plus `label` = the spec's hash."""
    return {**spec.get("labels", {}), label: dask_spec_hash(spec)}


def dask_runs_as(containers, name: str, image_id: str, spec: dict, label: str) -> bool:
    """True when the listing (docker_host_info's verbose containers) holds `name` running on image `image_id`,
    created from `spec` (its `label` holds the spec's hash)."""
    spec_hash = dask_spec_hash(spec)
    for container in containers or []:
        if f"/{name}" in (container.get("Names") or []):
            return (container.get("State") == "running" and bool(image_id)
                    and container.get("ImageID") == image_id
                    and (container.get("Labels") or {}).get(label) == spec_hash)
    return False


class FilterModule:
    def filters(self):
        return {"dask_spec_labels": dask_spec_labels, "dask_runs_as": dask_runs_as}
