"""Filters of adhoc.dask_cluster: whether a machine's paths are where the settings say, read from its listing."""
from __future__ import annotations

# The machines' program judges the same directories when it writes; it is standard library only.
from ansible_collections.adhoc.dask_cluster.plugins.plugin_utils.machine_program import usable_by


def dask_path_problems(machine: dict, claimed: dict, cluster_dir: str, owner: list) -> list[str]:
    """What stops the collection from using the claimed paths ({setting: path}) on a machine, one sentence
    each, from dask_machine_info's `paths` and `root`:
    - a path that leads elsewhere than written (a symbolic link on the way): the collection would create,
      re-own or remove what the link points at;
    - the cluster's directory existing without being the collection's (no marker, foreign content);
    - a directory outside the cluster's directory (the user's own) that the container user (owner: [uid, gid])
      could not write: the collection uses it as it is and never changes it (it only creates a missing one)."""
    described = machine.get("paths") or {}
    uid, gid = int(owner[0]), int(owner[1])
    problems = []
    for setting, path in claimed.items():
        found = described.get(setting)
        if found is None:
            continue
        if found["real"] != path:
            problems.append(f"{setting} '{path}' leads to '{found['real']}' (a symbolic link on the way): set it "
                            f"to the path it leads to, or remove the link")
        elif setting != "dask_cluster_data_root" and not path.startswith(cluster_dir + "/"):
            if not found["exists"]:
                continue  # the collection creates it, as the container user's
            if not found["dir"]:
                problems.append(f"{setting} '{path}' is not a directory: remove what is there, or choose another "
                                f"path")
            elif not usable_by(found, uid, gid):
                problems.append(f"{setting} '{path}' (owner {found['uid']}:{found['gid']}, mode "
                                f"{found['mode']:04o}) is not writable by the containers' user {uid}:{gid}, and "
                                f"the collection never changes a directory outside {cluster_dir}: give that user "
                                f"access, or choose another directory")
    root = machine.get("root")
    if root and not root.get("ours", True):
        problems.append(f"{cluster_dir} exists and was not made by this collection (it has no marker file "
                        f".adhoc.dask_cluster and holds other things): choose another dask_cluster_data_root or "
                        f"dask_cluster_name, or move it away")
    elif root and root["real"] != cluster_dir:
        problems.append(f"{cluster_dir} leads to '{root['real']}' (a symbolic link on the way): set "
                        f"dask_cluster_data_root to where it leads, or remove the link")
    return problems


def dask_secrets_placed(described: dict | None, gid, dir_mode: str, file_mode: str) -> list[str]:
    """The paths of dask_machine_info's `secrets.paths` ({path: description}) that are placed as the collection
    places secrets: existing, owned by root and group `gid`, directories with dir_mode and files with file_mode
    (octal strings such as '0550'). An unknown gid (a group not made yet) matches nothing."""
    try:
        gid = int(gid)
    except (TypeError, ValueError):
        return []
    return [path for path, found in (described or {}).items()
            if found["exists"] and found["uid"] == 0 and found["gid"] == gid
            and found["mode"] == int(dir_mode if found["dir"] else file_mode, 8)]


class FilterModule:
    def filters(self):
        return {"dask_path_problems": dask_path_problems, "dask_secrets_placed": dask_secrets_placed}
