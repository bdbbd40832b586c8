"""dask_mounts and dask_env: what is refused before any machine is touched, what a machine's read shows missing
(from the machine program's own description of real paths), and what the containers get."""
import pytest
from collection import plugin

environment = plugin("filter", "dask_environment")
program = plugin("plugin_utils", "machine_program")

DATA_ROOT = "/var/lib/dask_cluster"
RESERVED = ["/dask-tls", "/dask-jupyter", "/dask-worker-space", "/home/jovyan/work"]


def test_mounts_as_documented_raise_nothing():
    mounts = [{"source": "/srv/data", "target": "/data"},
              {"source": "/home/me/results", "target": "/results", "read_only": False}]
    assert environment.dask_mount_problems(mounts, DATA_ROOT, RESERVED) == []


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
     "dask_mounts targets '/data' and '/data' are the same or one is inside the other"),
    ([{"source": "/srv/data", "target": "/dask-tls"}], "target '/dask-tls' overlaps '/dask-tls'"),
    ([{"source": "/srv/data", "target": "/home/jovyan/work/data"}], "overlaps '/home/jovyan/work'"),
    ([{"source": "/srv/data", "target": "/home"}], "target '/home' overlaps '/home/jovyan/work'"),
    ([{"source": "/srv/data", "target": "/data"}, {"source": "/srv/results", "target": "/data/results"}],
     "dask_mounts targets '/data' and '/data/results' are the same or one is inside the other"),
    ([{"source": DATA_ROOT + "/dask/worker-space", "target": "/data"}],
     f"source '{DATA_ROOT}/dask/worker-space' is in or above {DATA_ROOT} (dask_cluster_data_root)"),
    ([{"source": DATA_ROOT + "/other-cluster", "target": "/data"}], "is in or above"),
    ([{"source": "/var/lib", "target": "/data"}], "source '/var/lib' is in or above"),
])
def test_mounts_that_cannot_work_or_would_reach_the_collections_files_are_refused(mounts, problem):
    problems = environment.dask_mount_problems(mounts, DATA_ROOT, RESERVED)
    assert any(problem in sentence for sentence in problems), problems


def test_a_source_beside_the_data_root_with_the_same_prefix_is_no_problem():
    mounts = [{"source": DATA_ROOT + "-archive", "target": "/archive"}, {"source": "/srv/a", "target": "/data-a"},
              {"source": "/srv/b", "target": "/data"}]
    assert environment.dask_mount_problems(mounts, DATA_ROOT, RESERVED) == []


def test_the_sources_a_machine_lacks_or_that_lead_into_the_data_root_are_named_from_its_read(tmp_path):
    present = tmp_path / "present"
    present.mkdir()
    (tmp_path / "file.csv").write_text("a,b\n")
    data_root = tmp_path / "data-root"
    (data_root / "dask").mkdir(parents=True)
    (tmp_path / "dangling").symlink_to(tmp_path / "nowhere")
    (tmp_path / "into-root").symlink_to(data_root / "dask")
    mounts = [{"source": str(present), "target": "/a"}, {"source": str(tmp_path / "missing"), "target": "/b"},
              {"source": str(tmp_path / "file.csv"), "target": "/c.csv"},
              {"source": str(tmp_path / "dangling"), "target": "/d"},
              {"source": str(tmp_path / "into-root"), "target": "/e"}]
    paths = environment.dask_mount_paths(mounts)
    assert sorted(paths.values()) == sorted(mount["source"] for mount in mounts)
    read = {"paths": {key: program.describe_path(path) for key, path in paths.items()}}
    problems = environment.dask_mount_source_problems(read, mounts, str(data_root))
    assert len(problems) == 3, problems
    assert f"source {tmp_path / 'missing'} does not exist on this machine" in problems[0]
    assert f"source {tmp_path / 'dangling'} does not exist on this machine (or is a symbolic link to nothing)" \
        in problems[1]
    assert f"source {tmp_path / 'into-root'} leads to {data_root / 'dask'}, in or above {data_root}" in problems[2]
    # A read that did not look at the sources judges nothing.
    assert environment.dask_mount_source_problems({"paths": {}}, mounts, str(data_root)) == []


def test_mounts_become_read_only_binds_unless_asked_otherwise():
    mounts = [{"source": "/srv/data", "target": "/data"}, {"source": "/srv/out", "target": "/out", "read_only": False}]
    assert environment.dask_bind_mounts(mounts) == [
        {"type": "bind", "source": "/srv/data", "target": "/data", "read_only": True},
        {"type": "bind", "source": "/srv/out", "target": "/out", "read_only": False}]
    assert environment.dask_bind_mounts([]) == []


def test_env_as_documented_raises_nothing():
    env = {"GDAL_CACHEMAX": "512", "PROJ_NETWORK": "ON", "_RATIO": "0.5"}
    assert environment.dask_env_problems(env, ["DASK_SCHEDULER_ADDRESS"]) == []


@pytest.mark.parametrize("env, problem", [
    (["A=1"], "dask_env must be a mapping"),
    ({"1ST": "x"}, "dask_env name '1ST' must be letters, digits and '_'"),
    ({"MY-VAR": "x"}, "dask_env name 'MY-VAR'"),
    ({"DASK_SCHEDULER_ADDRESS": "tcp://elsewhere:8786"}, "dask_env sets DASK_SCHEDULER_ADDRESS, which the collection"),
    ({"dask_scheduler_address": "tcp://elsewhere:8786"}, "dask_env sets dask_scheduler_address, which the"),
    ({"FLAG": True}, "dask_env value of FLAG must be a string: quote it in YAML"),
    ({"UMASK": 18}, "dask_env value of UMASK must be a string"),
    ({"RATIO": 1.1}, "dask_env value of RATIO must be a string"),
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
