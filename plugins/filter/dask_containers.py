"""Filters of adhoc.dask_cluster: is a container already what the cluster asks of it?

Every container the collection creates carries a label with the hash of everything it was created from (image,
command, environment, mounts, healthcheck, restart policy, the other labels), as Compose does with its
config-hash label. A re-run compares that hash, the image ID and the state with what the machine's first
contact listed, on the controller: a machine whose containers all match needs no module run at all. Anything
else (a changed setting, a new certificate, a new image under the same tag, a stopped or missing container)
goes through community.docker.docker_container, which recreates what differs.

The same listing answers up.yml's machine check (whose containers hold the cluster's names, which other cluster
or program holds its ports) and whether the cluster's containers run with the machine's current certificate. These
are Python, not Jinja loops in role vars: every task runs in a fresh fork of the controller, which compiles
each template it meets again, so long templates cost every machine every time.
"""
from __future__ import annotations

import hashlib
import json


def dask_spec_hash(spec) -> str:
    """SHA-1 of a container's spec as canonical JSON (sorted keys), the value of its spec label. A key whose value
    is none is left out, as the container is created without that option."""
    spec = {key: value for key, value in spec.items() if value is not None}
    return hashlib.sha1(json.dumps(spec, sort_keys=True, default=str).encode()).hexdigest()


def dask_spec_labels(spec: dict, label: str) -> dict:
    """The labels a container created from `spec` carries: the spec's own, plus `label` = the spec's hash."""
    return {**spec.get("labels", {}), label: dask_spec_hash(spec)}


def dask_container_plan(containers, name: str, image_id: str, spec: dict, label: str) -> str:
    """What a run does with the container `name`, from the listing: 'current' when it runs on image `image_id`
    created from `spec` (its `label` holds the spec's hash), so nothing; 'resume' when it is paused but otherwise
    so; 'recreate' when it runs or is paused and differs, or `image_id` is empty (nothing says it holds that
    image); 'start' when the listing holds it in no other state (missing, created, restarting, exited, dead)."""
    container = next((c for c in containers or [] if f"/{name}" in (c.get("Names") or [])), None)
    if container is None or container.get("State") not in ("running", "paused"):
        return "start"
    as_asked = (bool(image_id) and container.get("ImageID") == image_id
                and (container.get("Labels") or {}).get(label) == dask_spec_hash(spec))
    if not as_asked:
        return "recreate"
    return "current" if container.get("State") == "running" else "resume"


def _name(container: dict) -> str:
    return (container.get("Names") or ["/"])[0].lstrip("/")


def _labels(container: dict) -> dict:
    return container.get("Labels") or {}


# A paused container keeps its sockets: it holds its ports as a running one does.
_HOLDS_PORTS = ("running", "paused")


def _claimed_ports(container: dict, label_ports: str) -> list:
    """The ports a container of this collection claims: its `label_ports` label, comma-separated numbers."""
    return [int(port) for port in _labels(container).get(label_ports, "").split(",") if port.strip()]


def dask_foreign_holders(containers, names: list, label_cluster: str, cluster: str) -> list:
    """The names among `names` that a listed container holds without being one of `cluster`'s (its
    `label_cluster` label), such as a user's own `dask-scheduler` from the manual guide."""
    return [_name(c) for c in containers or []
            if _name(c) in names and _labels(c).get(label_cluster, "") != cluster]


def dask_port_clashes(containers, ports: list, cluster: str, label_cluster: str, label_ports: str) -> list:
    """One sentence for each running (or paused) container of another cluster of this collection that listens on
    one of `ports` (its `label_ports` label: comma-separated port numbers)."""
    wanted = {int(port) for port in ports}
    clashes = []
    for container in containers or []:
        other = _labels(container).get(label_cluster, "")
        if container.get("State") not in _HOLDS_PORTS or not other or other == cluster:
            continue
        shared = [port for port in _claimed_ports(container, label_ports) if port in wanted]
        if shared:
            clashes.append(f"cluster '{other}' (container {_name(container)}) listens on "
                           + ", ".join(map(str, shared)))
    return clashes


def dask_ports_taken(containers, listening, ports: list, cluster: str, label_cluster: str, label_ports: str) -> list:
    """The ports of `ports` that something other than this cluster holds on the machine: a socket listening on
    it (`listening`, from the machine's first contact) or a running or paused container publishing it (`docker
    run -p`, seen even when Docker's userland proxy is off). A port that such a container of this cluster claims
    (its `label_ports` label) is the cluster's own: that container keeps it, or is recreated and takes it again.
    Another cluster of this collection is reported by dask_port_clashes, by name."""
    ours, published = set(), set()
    for container in containers or []:
        if container.get("State") not in _HOLDS_PORTS:
            continue
        if _labels(container).get(label_cluster, "") == cluster:
            ours.update(_claimed_ports(container, label_ports))
        published.update(int(binding["PublicPort"]) for binding in container.get("Ports") or []
                         if binding.get("PublicPort"))
    taken = ({int(port) for port in listening or []} | published) - ours
    return sorted({int(port) for port in ports} & taken)


def dask_other_identities(containers, label_cluster: str, cluster: str, label_identity: str, identity: str) -> list:
    """The identities (their `label_identity` label) that `cluster`'s containers in the listing carry other than
    `identity`: the same cluster name started from another controller or directory. A container without the
    label predates it and counts as this cluster's."""
    return sorted({_labels(c).get(label_identity) for c in containers or []
                   if _labels(c).get(label_cluster, "") == cluster
                   and _labels(c).get(label_identity, identity) != identity})


def dask_with_label(containers, label_cluster: str, cluster: str, label: str) -> list:
    """The names of `cluster`'s containers in the listing that carry `label`."""
    return sorted(_name(c) for c in containers or []
                  if _labels(c).get(label_cluster, "") == cluster and label in _labels(c))


class FilterModule:
    def filters(self):
        return {"dask_spec_labels": dask_spec_labels, "dask_container_plan": dask_container_plan,
                "dask_foreign_holders": dask_foreign_holders, "dask_port_clashes": dask_port_clashes,
                "dask_ports_taken": dask_ports_taken, "dask_with_label": dask_with_label,
                "dask_other_identities": dask_other_identities}
