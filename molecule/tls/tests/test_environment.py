"""The user's environment and data on the lab, through a real Client: every worker reads its own machine's file
through dask_mounts (whose source differs on one machine), read-only; dask_env reaches the workers and JupyterLab;
a task that asks for a resource runs only on the machine whose workers have it (dask_worker_resources)."""
import json
import os
import warnings

import pytest
from conftest import (OUTPUT_DIR, SCHEDULER_HOSTS, SETTINGS, WORKER_HOSTS, expected_workers, inventory_vars, lab_host,
                      security)
from distributed import Client

# The scenario mounts a file named host.txt in each source, holding its machine's inventory name (prepare.yml).
MOUNT_FILE = "host.txt"


@pytest.fixture(scope="module")
def client():
    connection = json.loads((OUTPUT_DIR / "connection.json").read_text())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the controller's Python differs from the image's in its patch level only
        with Client(connection["address"], security=security(connection), timeout=30) as c:
            yield c


@pytest.fixture(scope="module")
def machine_of(client) -> dict:
    """Each worker process's address -> the machine it runs on (by the worker names the inventory asks for)."""
    machines = {name: machine for machine, spec in expected_workers().items() for name in spec["names"]}
    return {address: machines[str(name)] for address, name in
            client.run(lambda dask_worker: dask_worker.name).items()}


def mounts(machine: str) -> list[dict]:
    return inventory_vars(machine)["dask_mounts"]


def test_the_scenario_mounts_data_and_one_machine_has_its_own_source():
    sources = {machine: tuple(m["source"] for m in mounts(machine)) for machine in WORKER_HOSTS}
    assert all(sources.values()) and len(set(sources.values())) > 1, sources


def test_every_worker_reads_its_own_machines_file_through_the_mount(client, machine_of):
    target = mounts(WORKER_HOSTS[0])[0]["target"]
    read = client.run(lambda: open(os.path.join(target, MOUNT_FILE)).read().strip())
    assert read == {address: machine for address, machine in machine_of.items()}
    assert set(machine_of.values()) == set(WORKER_HOSTS)


def test_the_mount_is_read_only_in_the_containers(client):
    target = mounts(WORKER_HOSTS[0])[0]["target"]

    def write():
        try:
            open(os.path.join(target, "written-by-a-worker"), "w").close()
        except OSError as error:
            return error.strerror
        return "written"

    assert set(client.run(write).values()) == {"Read-only file system"}
    for machine in WORKER_HOSTS:
        source = mounts(machine)[0]["source"]
        assert not lab_host(machine).file(f"{source}/written-by-a-worker").exists


def test_the_environment_reaches_every_worker_and_jupyter(client):
    env = SETTINGS["dask_env"]
    seen = client.run(lambda names: {name: os.environ.get(name) for name in names}, list(env))
    assert seen and list(seen.values()) == [env] * len(seen)
    scheduler = lab_host(SCHEDULER_HOSTS[0])
    for name, value in env.items():
        assert scheduler.check_output("docker exec %s printenv %s", f"{SETTINGS['dask_cluster_name']}-jupyter",
                                      name) == value


def test_a_task_that_asks_for_a_resource_runs_only_where_it_is(client, machine_of):
    holders = {machine for machine in WORKER_HOSTS if inventory_vars(machine).get("dask_worker_resources")}
    assert holders and holders != set(WORKER_HOSTS), "the scenario gives the resource to some machines only"
    resource = next(iter(inventory_vars(next(iter(holders)))["dask_worker_resources"]))
    from distributed import get_worker

    futures = [client.submit(lambda i: get_worker().address, i, resources={resource: 1}, pure=False)
               for i in range(12)]
    ran_on = {machine_of[address] for address in client.gather(futures)}
    assert ran_on and ran_on <= holders, ran_on
