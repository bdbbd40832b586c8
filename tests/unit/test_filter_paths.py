"""dask_path_problems: what stops the collection from using the paths the settings claim, read from a machine's
description of them. The descriptions here are the machine program's own (describe_path, describe_root) of real
directories, as dask_machine_info returns them."""
import os

from collection import plugin

paths = plugin("filter", "dask_paths")
program = plugin("plugin_utils", "machine_program")


def machine(claimed: dict, root: str) -> dict:
    return {"paths": {setting: program.describe_path(path) for setting, path in claimed.items()},
            "root": program.describe_root(root)}


def test_paths_the_containers_user_can_use_and_the_clusters_own_raise_nothing(tmp_path):
    cluster_dir = tmp_path / "data" / "dask"
    shared = tmp_path / "shared"
    shared.mkdir(mode=0o700)
    os.chmod(shared, 0o777)  # not subject to the umask
    claimed = {"dask_cluster_data_root": str(tmp_path / "data"), "dask_scheduler_notebook_dir": str(shared),
               "dask_worker_local_directory": str(cluster_dir / "worker-space")}  # inside: the collection makes it
    assert paths.dask_path_problems(machine(claimed, str(cluster_dir)), claimed, str(cluster_dir),
                                    [os.getuid() + 1, os.getgid() + 1]) == []


def test_a_missing_directory_outside_the_clusters_is_no_problem_since_the_collection_creates_it(tmp_path):
    cluster_dir = tmp_path / "data" / "dask"
    claimed = {"dask_worker_local_directory": str(tmp_path / "scratch" / "spill")}
    described = machine(claimed, str(cluster_dir))
    assert described["paths"]["dask_worker_local_directory"]["exists"] is False
    assert paths.dask_path_problems(described, claimed, str(cluster_dir), [os.getuid() + 1, os.getgid() + 1]) == []
    # and the machine program does create it, for the containers' user
    program.directories({"check_mode": False, "root": str(cluster_dir), "directories": [
        {"path": claimed["dask_worker_local_directory"], "owner": os.getuid(), "group": os.getgid(), "mode": 0o750,
         "files": []}]})
    assert (tmp_path / "scratch" / "spill").is_dir()


def test_a_path_through_a_link_is_named_with_where_it_leads(tmp_path):
    (tmp_path / "real").mkdir()
    (tmp_path / "link").symlink_to(tmp_path / "real")
    cluster_dir = tmp_path / "link" / "dask"
    claimed = {"dask_cluster_data_root": str(tmp_path / "link")}
    problems = paths.dask_path_problems(machine(claimed, str(cluster_dir)), claimed, str(cluster_dir),
                                        [os.getuid(), os.getgid()])
    assert problems == [
        f"dask_cluster_data_root '{tmp_path / 'link'}' leads to '{tmp_path / 'real'}' (a symbolic link on the way): "
        f"set it to the path it leads to, or remove the link",
        f"{cluster_dir} leads to '{tmp_path / 'real' / 'dask'}' (a symbolic link on the way): set "
        f"dask_cluster_data_root to where it leads, or remove the link"]


def test_a_users_own_path_outside_the_cluster_must_be_a_directory_the_containers_user_can_write(tmp_path):
    cluster_dir = tmp_path / "data" / "dask"
    (tmp_path / "a-file").write_text("")
    private = tmp_path / "private"
    private.mkdir()
    os.chmod(private, 0o750)
    claimed = {"dask_scheduler_notebook_dir": str(tmp_path / "a-file"), "dask_worker_local_directory": str(private)}
    stranger = [os.getuid() + 1, os.getgid() + 1]
    problems = paths.dask_path_problems(machine(claimed, str(cluster_dir)), claimed, str(cluster_dir), stranger)
    assert problems == [
        f"dask_scheduler_notebook_dir '{tmp_path / 'a-file'}' is not a directory: remove what is there, or choose "
        f"another path",
        f"dask_worker_local_directory '{private}' (owner {os.getuid()}:{os.getgid()}, mode 0750) is not writable by "
        f"the containers' user {stranger[0]}:{stranger[1]}, and the collection never changes a directory outside "
        f"{cluster_dir}: give that user access, or choose another directory"]
    # The directory's group may write it: its members are served.
    os.chmod(private, 0o770)
    described = machine(claimed, str(cluster_dir))
    assert len(paths.dask_path_problems(described, claimed, str(cluster_dir), [stranger[0], os.getgid()])) == 1


def test_a_cluster_directory_the_collection_did_not_make_is_refused(tmp_path):
    cluster_dir = tmp_path / "dask"
    cluster_dir.mkdir()
    (cluster_dir / "thesis.tex").write_text("")
    problems = paths.dask_path_problems(machine({}, str(cluster_dir)), {}, str(cluster_dir), [0, 0])
    assert len(problems) == 1 and problems[0].startswith(f"{cluster_dir} exists and was not made by this collection")
    (cluster_dir / program.MARKER).touch()
    assert paths.dask_path_problems(machine({}, str(cluster_dir)), {}, str(cluster_dir), [0, 0]) == []


def test_a_setting_the_machine_did_not_describe_is_not_judged():
    assert paths.dask_path_problems({"paths": {}}, {"dask_cluster_data_root": "/nowhere"}, "/nowhere/dask", [0, 0]) \
        == []


def described(uid=0, gid=990, mode=0o440, directory=False, exists=True):
    return {"exists": exists, "uid": uid, "gid": gid, "mode": mode, "dir": directory}


def test_only_secrets_of_root_and_the_group_with_the_modes_asked_count_as_placed():
    found = {"/c/tls": described(mode=0o550, directory=True), "/c/tls/key.pem": described(),
             "/c/jupyter": described(uid=1000, mode=0o550, directory=True),
             "/c/jupyter/token": described(gid=100), "/c/other": described(mode=0o444),
             "/c/gone": described(exists=False)}
    assert paths.dask_secrets_placed(found, "990", "0550", "0440") == ["/c/tls", "/c/tls/key.pem"]
    assert paths.dask_secrets_placed(found, 990, "0750", "0440") == ["/c/tls/key.pem"]


def test_a_group_not_made_yet_places_nothing_and_an_unread_machine_has_nothing():
    found = {"/c/tls": described(mode=0o550, directory=True)}
    assert paths.dask_secrets_placed(found, "dask-cluster", "0550", "0440") == []
    assert paths.dask_secrets_placed(None, 990, "0550", "0440") == []
