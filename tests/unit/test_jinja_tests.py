"""The Jinja tests the roles' preflight checks use (plugins/test/dask.py): what they accept must be what Dask, Docker
and the kernel will accept, and nothing the collection's removals could harm."""
import pytest
from collection import plugin

tests = plugin("test", "dask")


def test_memory_limits_are_read_as_dask_reads_them():
    accepted = ["auto", 0.5, "1", 1, "4GiB", "1500MB", 4_000_000_000, "0.25", " 2GB ", str(tests.MEMORY_LIMIT_FLOOR)]
    refused = ["1.5", 0, "0", "0GB", "-2GB", "lots", True, False, 512, "100MB", tests.MEMORY_LIMIT_FLOOR - 1, ""]
    assert [v for v in accepted if not tests.dask_memory_limit(v)] == []
    assert [v for v in refused if tests.dask_memory_limit(v)] == []


def test_a_cluster_name_is_what_docker_takes_in_a_name_lower_case_and_short():
    accepted = ["dask", "a", "lab-2", "team_a.prod", "0cluster", "x" * 40]
    refused = ["", "Dask", "-dask", ".dask", "_dask", "da sk", "dask/1", "x" * 41, "dask\n", 7, None, ["dask"]]
    assert [v for v in accepted if not tests.dask_cluster_name(v)] == []
    assert [v for v in refused if tests.dask_cluster_name(v)] == []


def test_a_clean_path_is_absolute_and_written_as_it_resolves():
    accepted = ["/", "/srv/dask", "/home/alice/dask notebooks"]
    refused = ["", "relative", "./a", "/a/", "/a//b", "/a/./b", "/a/../b", "//a", None, 1]
    assert [p for p in accepted if not tests.dask_clean_path(p)] == []
    assert [p for p in refused if tests.dask_clean_path(p)] == []


@pytest.mark.parametrize("directory", sorted(tests.SYSTEM_DIRECTORIES))
def test_no_system_directory_is_a_data_root_but_a_directory_below_it_is(directory):
    assert not tests.dask_data_root(directory)
    assert tests.dask_data_root(directory.rstrip("/") + "/dask_cluster")


def test_a_data_root_must_be_clean():
    # //var is /var to Linux.
    assert [p for p in ["relative", "/a/../b", "/a/", "/a//b", "/a/./b", "", "//var"] if tests.dask_data_root(p)] == []


def test_each_test_is_offered_under_its_own_name():
    offered = tests.TestModule().tests()
    assert sorted(offered) == ["dask_clean_path", "dask_cluster_name", "dask_data_root", "dask_memory_limit"]
    assert all(getattr(tests, name) is function for name, function in offered.items())
