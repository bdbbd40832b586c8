"""Filters of adhoc.dask_cluster: the user's data mounts (dask_mounts) and environment variables (dask_env) on
every container of the cluster, checked before any machine is touched and turned into the containers' spec."""
from __future__ import annotations

import re
from collections.abc import Mapping

from ansible_collections.adhoc.dask_cluster.plugins.plugin_utils.machine_program import inside
from ansible_collections.adhoc.dask_cluster.plugins.test.dask import dask_clean_path

_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def _within(path: str, directory: str) -> bool:
    return path == directory or inside(path, directory)


def dask_mount_problems(mounts, data_root: str, reserved: list) -> list[str]:
    """What is wrong with dask_mounts as written, one sentence each: not a list of {source, target, read_only}
    mappings, a path that is not clean and absolute, targets that are the same or one inside another, a target
    on, in or above one of the collection's own (`reserved`), a source in or above the data root (where every
    cluster keeps its keys, and which teardown empties)."""
    if not isinstance(mounts, list):
        return ["dask_mounts must be a list of {source, target, read_only} mappings"]
    problems, targets = [], []
    for number, mount in enumerate(mounts, start=1):
        if not isinstance(mount, Mapping) or not {"source", "target"} <= set(mount) \
                or set(mount) - {"source", "target", "read_only"}:
            problems.append(f"dask_mounts item {number} must be a mapping with source, target and optionally "
                            f"read_only, and nothing else")
            continue
        source, target = mount["source"], mount["target"]
        unclean = [(key, path) for key, path in (("source", source), ("target", target))
                   if not dask_clean_path(path) or path == "/"]
        for key, path in unclean:
            problems.append(f"dask_mounts item {number} {key} '{path}' must be an absolute path other than "
                            f"'/', without '.', '..', '//' or a trailing '/'")
        if not isinstance(mount.get("read_only", True), bool):
            problems.append(f"dask_mounts item {number} read_only must be true or false")
        if unclean:
            continue
        for other in targets:
            if _within(target, other) or _within(other, target):
                problems.append(f"dask_mounts targets '{other}' and '{target}' are the same or one is inside the "
                                f"other: Docker would create the inner one inside the outer source")
        targets.append(target)
        for own in reserved:
            if _within(target, own) or _within(own, target):
                problems.append(f"dask_mounts target '{target}' overlaps '{own}', where the collection mounts its "
                                f"own files: choose another target")
        if _within(source, data_root) or _within(data_root, source):
            problems.append(f"dask_mounts source '{source}' is in or above {data_root} (dask_cluster_data_root), "
                            f"where the clusters keep their keys and teardown removes files: keep your data "
                            f"elsewhere")
    return problems


def dask_mount_paths(mounts: list) -> dict:
    """The sources of dask_mounts for the machine's read (dask_machine_info's `paths`), keyed 'dask_mounts:SOURCE'
    so that they never mix with the settings the collection writes to."""
    return {f"dask_mounts:{mount['source']}": mount["source"] for mount in mounts or []}


def dask_mount_source_problems(machine: Mapping, mounts: list, data_root: str) -> list[str]:
    """What the machine's read (dask_machine_info with dask_mount_paths) shows wrong with the sources of dask_mounts,
    one sentence each: a source that does not exist (or is a symbolic link to nothing), or one whose links lead
    in or above the data root. A source the read did not describe is not judged."""
    described = machine.get("paths") or {}
    problems = []
    for mount in mounts or []:
        found = described.get(f"dask_mounts:{mount['source']}")
        if found is None:
            continue
        if not found["resolves"]:
            problems.append(f"the dask_mounts source {mount['source']} does not exist on this machine (or is a "
                            f"symbolic link to nothing). Create it, or correct dask_mounts for this host (sources "
                            f"may differ per machine; the collection never creates a mount source)")
        elif _within(found["real"], data_root) or _within(data_root, found["real"]):
            problems.append(f"the dask_mounts source {mount['source']} leads to {found['real']}, in or above "
                            f"{data_root} (dask_cluster_data_root), where the clusters keep their keys and teardown "
                            f"removes files: keep your data elsewhere")
    return problems


def dask_bind_mounts(mounts: list) -> list[dict]:
    """dask_mounts as community.docker.docker_container's `mounts`: binds, read-only unless said otherwise."""
    return [{"type": "bind", "source": mount["source"], "target": mount["target"],
             "read_only": mount.get("read_only", True)} for mount in mounts or []]


def dask_env_problems(env, reserved: list) -> list[str]:
    """What is wrong with dask_env as written, one sentence each, naming the variable but never its value: not a
    mapping, a name the shell would not take, a name the collection sets itself (`reserved`, compared without
    regard to case, as Dask reads DASK_ variables), a value that is not a string (YAML reads 022 as 18, 1.10 as
    1.1 and yes as true: quote values)."""
    if not isinstance(env, Mapping):
        return ["dask_env must be a mapping of variable names to values"]
    reserved_upper = {name.upper() for name in reserved}
    problems = []
    for name, value in env.items():
        if not isinstance(name, str) or not _ENV_NAME.match(name):
            problems.append(f"dask_env name '{name}' must be letters, digits and '_', not starting with a digit")
        elif name.upper() in reserved_upper:
            problems.append(f"dask_env sets {name}, which the collection sets itself on the cluster's containers")
        if not isinstance(value, str):
            problems.append(f"dask_env value of {name} must be a string: quote it in YAML (which reads 022 as 18, "
                            f"1.10 as 1.1 and yes as true)")
    return problems


class FilterModule:
    def filters(self):
        return {"dask_mount_problems": dask_mount_problems, "dask_mount_paths": dask_mount_paths,
                "dask_mount_source_problems": dask_mount_source_problems, "dask_bind_mounts": dask_bind_mounts,
                "dask_env_problems": dask_env_problems}
