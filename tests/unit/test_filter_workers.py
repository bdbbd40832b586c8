"""dask_hosts_missing: the machines whose workers the scheduler does not count, for the `wait` entry point's
message."""
from collection import plugin

workers = plugin("filter", "dask_workers")


def test_machines_missing_workers_are_those_that_answered_with_a_name_not_counted():
    expected = {"a": ["a"], "b": ["b-0", "b-1"], "c": ["c"], "d": [7]}
    assert workers.dask_hosts_missing(expected, ["a", "b-0", "7"], ["c"]) == ["b"]
    assert workers.dask_hosts_missing(expected, ["a", "b-0", "b-1", "c", "7"], []) == []
