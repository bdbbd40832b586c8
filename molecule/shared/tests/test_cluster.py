"""The cluster as a user meets it: connection.json, and a distributed.Client on the controller that counts
the expected workers with their threads and memory, and runs work on every one of them."""
import warnings

import pytest
from conftest import SETTINGS, TLS, expected_workers, security
from distributed import Client


@pytest.fixture(scope="module")
def client(connection):
    with warnings.catch_warnings():
        # The controller's Python differs from the image's in its patch level only.
        warnings.simplefilter("ignore")
        with Client(connection["address"], security=security(connection), timeout=30) as c:
            yield c


def test_connection_file_names_scheduler_and_dashboard(connection):
    assert connection["address"].startswith("tls://" if TLS else "tcp://")
    assert connection["address"].endswith(f":{SETTINGS['dask_scheduler_port']}")
    assert connection["dashboard_link"].startswith("https://" if TLS else "http://")
    assert connection["dashboard_link"].endswith(f":{SETTINGS['dask_dashboard_port']}/status")
    assert ("security" in connection) == TLS


def test_client_counts_exactly_the_expected_workers(client):
    expected = sorted(n for spec in expected_workers().values() for n in spec["names"])
    workers = client.scheduler_info(n_workers=-1)["workers"].values()
    assert sorted(str(w["name"]) for w in workers) == expected


def test_each_worker_has_the_expected_threads_and_memory(client):
    by_name = {str(w["name"]): w for w in client.scheduler_info(n_workers=-1)["workers"].values()}
    for machine, spec in expected_workers().items():
        for name in spec["names"]:
            assert by_name[name]["nthreads"] == spec["nthreads"], (machine, name)
            if spec["memory_limit"] is not None:
                assert by_name[name]["memory_limit"] == spec["memory_limit"], (machine, name)
            else:
                assert by_name[name]["memory_limit"] > 0, (machine, name)


def test_client_runs_work_on_every_worker(client):
    import dask.array as da

    assert da.ones((2000, 2000), chunks=(250, 250)).sum().compute() == 4_000_000
    seen = client.run(lambda dask_worker: dask_worker.name)
    expected = {n for spec in expected_workers().values() for n in spec["names"]}
    assert {str(v) for v in seen.values()} == expected
