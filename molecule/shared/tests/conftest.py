"""Shared fixtures for the Molecule scenarios' testinfra suite: the scenario's inventory, what it expects of
the cluster, and the container logs attached to every failure so that a red run explains itself."""
from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest
import testinfra
import testinfra.utils.ansible_runner

INVENTORY = os.environ["MOLECULE_INVENTORY_FILE"]
RUNNER = testinfra.utils.ansible_runner.AnsibleRunner(INVENTORY)
SCHEDULER_HOSTS = RUNNER.get_hosts("dask_scheduler")
WORKER_HOSTS = RUNNER.get_hosts("dask_workers")
LABEL_CLUSTER = "io.github.adhoc.dask_cluster.cluster"


def inventory_vars(host_name: str) -> dict:
    return RUNNER.get_variables(host_name)


# The collection's documented defaults, for what the inventory leaves unset.
SETTINGS = {"dask_cluster_name": "dask", "dask_scheduler_port": 8786, "dask_dashboard_port": 8787,
            "dask_jupyter_port": 8888} | {
    key: value for key, value in inventory_vars(SCHEDULER_HOSTS[0]).items() if key.startswith("dask_")}
CLUSTER = SETTINGS["dask_cluster_name"]


def lab_host(name: str):
    return testinfra.get_host(f"ansible://{name}", ansible_inventory=INVENTORY)


def expected_workers() -> dict[str, dict]:
    """Per worker machine: the worker names, threads and memory limit the inventory asks for."""
    from dask.utils import parse_bytes

    expected = {}
    for name in WORKER_HOSTS:
        hv = inventory_vars(name)
        nworkers = int(hv.get("dask_worker_nworkers", 1))
        nthreads = hv.get("dask_worker_nthreads")
        if nthreads is None:
            cpus = int(lab_host(name).check_output("getconf _NPROCESSORS_ONLN"))
            nthreads = max(1, cpus // nworkers)
        limit = hv.get("dask_worker_memory_limit")
        worker_name = hv.get("dask_worker_name", name)
        expected[name] = {
            "names": [worker_name] if nworkers == 1 else [f"{worker_name}-{i}" for i in range(nworkers)],
            "nthreads": int(nthreads),
            "memory_limit": parse_bytes(limit) if isinstance(limit, str) and limit != "auto" else None,
        }
    return expected


OUTPUT_DIR = Path(SETTINGS["dask_cluster_output_dir"])
TLS = SETTINGS.get("dask_tls_enabled", True)
CLUSTER_DIR = f"{SETTINGS.get('dask_cluster_data_root', '/var/lib/dask_cluster')}/{CLUSTER}"
SECRETS_GROUP = SETTINGS.get("dask_secrets_group", "dask-cluster")
# Someone on the machine with the image user's numbers (dask_container_owner), as a workstation's first human
# user has them, and no other group: what the collection must keep the keys and token from.
IMAGE_UID, IMAGE_GID = SETTINGS.get("dask_container_owner", [1000, 100])
AS_IMAGE_UID = f"setpriv --reuid {IMAGE_UID} --regid {IMAGE_GID} --clear-groups"


def assert_secret_for_root_and_containers_only(host, path: str, containers: list[str], inside: str):
    """The file at path (and its directory) is root's and the secrets group's, which has no member: a user with
    the image user's uid is refused it, on the machine's path and through each container's own view of its
    files (/proc/<pid>/root), and each container reads the same content at `inside` through the group it was
    started with. Compared by hash, so that no failure prints a secret."""
    group = host.check_output("getent group %s", SECRETS_GROUP).split(":")
    gid = int(group[2])
    assert group[3] == "", f"{SECRETS_GROUP} has members: {group[3]}"
    directory, secret = host.file(str(Path(path).parent)), host.file(path)
    assert (directory.uid, directory.gid, directory.mode) == (0, gid, 0o550)
    assert (secret.uid, secret.gid, secret.mode) == (0, gid, 0o440)
    denied = host.run(f"{AS_IMAGE_UID} cat %s", path)
    assert denied.rc != 0 and "Permission denied" in denied.stderr, denied.stderr
    digest = host.check_output("sha256sum %s", path).split()[0]
    for container in containers:
        pid = host.check_output("docker inspect --format '{{.State.Pid}}' %s", container)
        denied = host.run(f"{AS_IMAGE_UID} cat /proc/%s/root%s", pid, inside)
        assert denied.rc != 0 and "Permission denied" in denied.stderr, denied.stderr
        assert str(gid) in host.check_output("docker exec %s id -G", container).split()
        assert host.check_output("docker exec %s sha256sum %s", container, inside).split()[0] == digest


@pytest.fixture(scope="session")
def connection() -> dict:
    return json.loads((OUTPUT_DIR / "connection.json").read_text())


def security(connection: dict):
    """The distributed.Security that connection.json describes (None for a plain tcp:// cluster)."""
    from distributed import Security

    if "security" not in connection:
        return None
    paths = {k: str(OUTPUT_DIR / v) if k.startswith("tls_") else v for k, v in connection["security"].items()}
    return Security(**paths)


def wait_for_health(host, container: str, timeout: float = 120) -> str:
    """The container's health status once it leaves 'starting' (or after timeout)."""
    deadline = time.monotonic() + timeout
    while True:
        status = host.check_output(
            "docker inspect --format '{{if .State.Health}}{{.State.Health.Status}}{{else}}none{{end}}' %s",
            container)
        if status != "starting" or time.monotonic() > deadline:
            return status
        time.sleep(3)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.when != "call" or not report.failed:
        return
    for name in sorted(set(SCHEDULER_HOSTS + WORKER_HOSTS)):
        host = lab_host(name)
        listing = host.run("docker ps -a --filter label=%s=%s --format '{{.Names}} {{.Status}}'",
                           LABEL_CLUSTER, CLUSTER).stdout
        text = [listing]
        for line in listing.splitlines():
            container = line.split()[0]
            text.append(f"--- docker logs --tail 40 {container}\n" + host.run(
                "docker logs --tail 40 %s 2>&1", container).stdout)
        report.sections.append((f"cluster containers on {name}", "\n".join(text)))
