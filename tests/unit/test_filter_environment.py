"""dask_mounts and dask_env: what is refused before any machine is touched, what a machine's read shows missing
(from the machine program's own description of real paths), and what the containers get."""
import pytest
from collection import plugin

environment = plugin("filter", "dask_environment")
program = plugin("plugin_utils", "machine_program")

CLUSTER_DIR = "/var/lib/dask_cluster/dask"
RESERVED = ["/dask-tls", "/dask-jupyter", "/dask-worker-space", "/home/jovyan/work"]


def test_mounts_as_documented_raise_nothing():
    mounts = [{"source": "/srv/data", "target": "/data"},
              {"source": "/home/me/results", "target": "/results", "read_only": False}]
    assert environment.dask_mount_problems(mounts, CLUSTER_DIR, RESERVED) == []


@pytest.mark.parametrize("mounts, problem", [
    ({"source": "/srv/data", "target": "/data"}, "dask_mounts must be a list"),
    (["/srv/data:/data"], "dask_mounts item 1 must be a mapping with source, target"),
    ([{"source": "/srv/data"}], "dask_mounts item 1 must be a mapping with source, target"),
    ([{"source": "/srv/data", "target": "/data", "mode": "ro"}], "and nothing else"),
    ([{"source": "data", "target": "/data"}], "dask_mounts item 1 source 'data' must be an absolute path"),
    ([{"source": "/srv/data/", "target": "/data"}], "source '/srv/data/' must be an absolute path"),
    ([{"source": "/srv/../etc", "target": "/data"}], "source '/srv/../etc' must be"),
    ([{"source": "/srv/data", "target": "/"}], "target '/' must be an absolute path other than '/'"),
    ([{"source": "/srv/data", "target": "/data", "read_only": "no"}], "read_only must be true or false"),
    ([{"source": "/srv/a", "target": "/data"}, {"source": "/srv/b", "target": "/data"}],
     "dask_mounts target '/data' is given twice"),
    ([{"source": "/srv/data", "target": "/dask-tls"}], "target '/dask-tls' overlaps '/dask-tls'"),
    ([{"source": "/srv/data", "target": "/home/jovyan/work/data"}], "overlaps '/home/jovyan/work'"),
    ([{"source": "/srv/data", "target": "/home"}], "target '/home' overlaps '/home/jovyan/work'"),
    ([{"source": CLUSTER_DIR + "/worker-space", "target": "/data"}], f"is inside {CLUSTER_DIR}, the cluster's own"),
    ([{"source": CLUSTER_DIR, "target": "/data"}], f"is inside {CLUSTER_DIR}"),
])
def test_mounts_that_cannot_work_or_would_reach_the_collections_files_are_refused(mounts, problem):
    problems = environment.dask_mount_problems(mounts, CLUSTER_DIR, RESERVED)
    assert any(problem in sentence for sentence in problems), problems


def test_a_source_beside_the_cluster_directory_with_the_same_prefix_is_no_problem():
    mounts = [{"source": CLUSTER_DIR + "-archive", "target": "/archive"}]
    assert environment.dask_mount_problems(mounts, CLUSTER_DIR, RESERVED) == []


def test_the_sources_a_machine_lacks_are_named_from_its_read(tmp_path):
    present = tmp_path / "present"
    present.mkdir()
    (tmp_path / "file.csv").write_text("a,b\n")
    mounts = [{"source": str(present), "target": "/a"}, {"source": str(tmp_path / "missing"), "target": "/b"},
              {"source": str(tmp_path / "file.csv"), "target": "/c.csv"}]
    paths = environment.dask_mount_paths(mounts)
    assert sorted(paths.values()) == sorted(mount["source"] for mount in mounts)
    read = {"paths": {key: program.describe_path(path) for key, path in paths.items()}}
    assert environment.dask_mounts_missing(read, mounts) == [str(tmp_path / "missing")]
    # A read that did not look at the sources judges nothing.
    assert environment.dask_mounts_missing({"paths": {}}, mounts) == []


def test_mounts_become_read_only_binds_unless_asked_otherwise():
    mounts = [{"source": "/srv/data", "target": "/data"}, {"source": "/srv/out", "target": "/out", "read_only": False}]
    assert environment.dask_bind_mounts(mounts) == [
        {"type": "bind", "source": "/srv/data", "target": "/data", "read_only": True},
        {"type": "bind", "source": "/srv/out", "target": "/out", "read_only": False}]
    assert environment.dask_bind_mounts([]) == []


def test_env_as_documented_raises_nothing_and_becomes_strings():
    env = {"GDAL_CACHEMAX": 512, "PROJ_NETWORK": "ON", "_RATIO": 0.5}
    assert environment.dask_env_problems(env, ["DASK_SCHEDULER_ADDRESS"]) == []
    assert environment.dask_env_strings(env) == {"GDAL_CACHEMAX": "512", "PROJ_NETWORK": "ON", "_RATIO": "0.5"}


@pytest.mark.parametrize("env, problem", [
    (["A=1"], "dask_env must be a mapping"),
    ({"1ST": "x"}, "dask_env name '1ST' must be letters, digits and '_'"),
    ({"MY-VAR": "x"}, "dask_env name 'MY-VAR'"),
    ({"DASK_SCHEDULER_ADDRESS": "tcp://elsewhere:8786"}, "dask_env sets DASK_SCHEDULER_ADDRESS, which the collection"),
    ({"FLAG": True}, "dask_env value of FLAG must be a string or a number (quote it in YAML)"),
    ({"EMPTY": None}, "dask_env value of EMPTY must be"),
    ({"LIST": ["a"]}, "dask_env value of LIST must be"),
])
def test_env_that_a_container_cannot_take_or_the_collection_sets_is_refused(env, problem):
    problems = environment.dask_env_problems(env, ["DASK_SCHEDULER_ADDRESS"])
    assert any(problem in sentence for sentence in problems), problems


def test_no_env_problem_ever_holds_a_value():
    secret = "s3cr3t-value-never-printed"
    env = {"1BAD": secret, "DASK_SCHEDULER_ADDRESS": secret, "OK": secret}
    problems = environment.dask_env_problems(env, ["DASK_SCHEDULER_ADDRESS"])
    assert len(problems) == 2 and not any(secret in sentence for sentence in problems)
