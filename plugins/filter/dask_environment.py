"""Filters of adhoc.dask_cluster: the user's data mounts (dask_mounts) and environment variables (dask_env) on
every container of the cluster, checked before any machine is touched and turned into the containers' spec."""
from __future__ import annotations

import re
from collections.abc import Mapping

from ansible_collections.adhoc.dask_cluster.plugins.test.dask import dask_clean_path

_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def _within(path: str, directory: str) -> bool:
    return path == directory or path.startswith(directory.rstrip("/") + "/")


def dask_mount_problems(mounts, cluster_dir: str, reserved: list) -> list[str]:
    """What is wrong with dask_mounts as written, one sentence each: not a list of {source, target, read_only}
    mappings, a path that is not clean and absolute, a target twice, a target on, in or above one of the
    collection's own (`reserved`), a source inside the cluster's directory (teardown removes that directory)."""
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
        for key, path in (("source", source), ("target", target)):
            if not dask_clean_path(path) or path == "/":
                problems.append(f"dask_mounts item {number} {key} '{path}' must be an absolute path other than "
                                f"'/', without '.', '..', '//' or a trailing '/'")
        if not isinstance(mount.get("read_only", True), bool):
            problems.append(f"dask_mounts item {number} read_only must be true or false")
        if not dask_clean_path(target) or not dask_clean_path(source):
            continue
        if target in targets:
            problems.append(f"dask_mounts target '{target}' is given twice: each target takes one source")
        targets.append(target)
        for own in reserved:
            if _within(target, own) or _within(own, target):
                problems.append(f"dask_mounts target '{target}' overlaps '{own}', where the collection mounts its "
                                f"own files: choose another target")
        if _within(source, cluster_dir):
            problems.append(f"dask_mounts source '{source}' is inside {cluster_dir}, the cluster's own directory, "
                            f"which teardown removes: keep your data outside it")
    return problems


def dask_mount_paths(mounts: list) -> dict:
    """The sources of dask_mounts for the machine's read (dask_machine_info's `paths`), keyed 'dask_mounts:SOURCE'
    so that they never mix with the settings the collection writes to."""
    return {f"dask_mounts:{mount['source']}": mount["source"] for mount in mounts or []}


def dask_mounts_missing(machine: Mapping, mounts: list) -> list[str]:
    """The sources of dask_mounts that the machine's read (dask_machine_info with dask_mount_paths) found missing."""
    described = machine.get("paths") or {}
    return [mount["source"] for mount in mounts or []
            if not (described.get(f"dask_mounts:{mount['source']}") or {"exists": True})["exists"]]


def dask_bind_mounts(mounts: list) -> list[dict]:
    """dask_mounts as community.docker.docker_container's `mounts`: binds, read-only unless said otherwise."""
    return [{"type": "bind", "source": mount["source"], "target": mount["target"],
             "read_only": mount.get("read_only", True)} for mount in mounts or []]


def dask_env_problems(env, reserved: list) -> list[str]:
    """What is wrong with dask_env as written, one sentence each, naming the variable but never its value: not a
    mapping, a name the shell would not take, a name the collection sets itself (`reserved`), a value that is not
    a string or a number (YAML reads `yes` and `true` as booleans, so quote them)."""
    if not isinstance(env, Mapping):
        return ["dask_env must be a mapping of variable names to values"]
    problems = []
    for name, value in env.items():
        if not isinstance(name, str) or not _ENV_NAME.match(name):
            problems.append(f"dask_env name '{name}' must be letters, digits and '_', not starting with a digit")
        elif name in reserved:
            problems.append(f"dask_env sets {name}, which the collection sets itself on the cluster's containers")
        if isinstance(value, bool) or not isinstance(value, (str, int, float)):
            problems.append(f"dask_env value of {name} must be a string or a number (quote it in YAML)")
    return problems


def dask_env_strings(env: Mapping) -> dict:
    """dask_env with every value a string, as a container's environment holds it."""
    return {name: str(value) for name, value in (env or {}).items()}


class FilterModule:
    def filters(self):
        return {"dask_mount_problems": dask_mount_problems, "dask_mount_paths": dask_mount_paths,
                "dask_mounts_missing": dask_mounts_missing, "dask_bind_mounts": dask_bind_mounts,
                "dask_env_problems": dask_env_problems, "dask_env_strings": dask_env_strings}
