"""Offline: the image reaches machines only through the collection, one image runs everywhere, a re-run
transfers nothing, and a mixed cluster is refused with the machine and both image IDs named."""
from __future__ import annotations

import base64
import json
import os
import re
import subprocess
import time
from pathlib import Path

import pytest
from conftest import CLUSTER, INVENTORY, SCHEDULER_HOSTS, SETTINGS, WORKER_HOSTS, connection, lab_host  # noqa: F401

MOLECULE = Path(__file__).resolve().parents[2]
MACHINES = sorted(set(SCHEDULER_HOSTS + WORKER_HOSTS))
OTHER_IMAGE = "adhoc-test/gds-standin:other-distributed"


def image_id_on(host, image: str) -> str:
    return host.check_output("docker image inspect --format '{{.Id}}' %s", image)


@pytest.fixture(scope="module")
def archive_image_id() -> str:
    # The archive is a `docker save` of the stand-in this machine built: its ID, asked of this engine.
    return subprocess.run(["docker", "image", "inspect", "--format", "{{.Id}}", SETTINGS["dask_image"]],
                          capture_output=True, text=True, check=True).stdout.strip()


def converge(*extra: str) -> subprocess.CompletedProcess:
    return subprocess.run(["ansible-playbook", "-i", INVENTORY, str(MOLECULE / "shared" / "converge.yml"), *extra],
                          capture_output=True, text=True, env=os.environ, timeout=600)


@pytest.mark.parametrize("name", MACHINES)
def test_every_machine_holds_exactly_the_archive_image(name, archive_image_id):
    assert image_id_on(lab_host(name), SETTINGS["dask_image"]) == archive_image_id


@pytest.mark.parametrize("name", MACHINES)
def test_every_cluster_container_runs_the_archive_image(name, archive_image_id):
    host = lab_host(name)
    images = host.check_output(
        "docker ps --filter label=io.github.adhoc.dask_cluster.cluster=%s --format '{{.ID}}' "
        "| xargs docker inspect --format '{{.Image}}'", CLUSTER).split()
    assert images and set(images) == {archive_image_id}


@pytest.mark.parametrize("name", MACHINES)
def test_no_archive_is_left_on_the_machine(name):
    assert lab_host(name).run("ls /var/tmp/dask_cluster-*.tar").rc != 0


def test_a_rerun_transfers_nothing_and_changes_nothing():
    result = converge("-v")
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-5000:]
    assert sum(int(n) for n in re.findall(r"changed=(\d+)", output)) == 0, output[-5000:]
    assert not re.search(r"TASK \[[^]]*Copy the archive[^]]*\][^\n]*\n(changed|ok)", output)


def test_registry_mode_refuses_a_machine_that_holds_another_image(archive_image_id):
    worker = lab_host(WORKER_HOSTS[-1])
    other_id = image_id_on(worker, OTHER_IMAGE)
    worker.check_output("docker tag %s %s", OTHER_IMAGE, SETTINGS["dask_image"])
    try:
        result = converge("-e", "dask_image_source=registry", "-e", "dask_image_pull=never")
        output = " ".join((result.stdout + result.stderr).split())
        assert result.returncode != 0
        assert "is not the same image on every machine" in output, output[-3000:]
        assert f"{other_id} on {WORKER_HOSTS[-1]}" in output, output[-3000:]
        assert archive_image_id in output, output[-3000:]
    finally:
        worker.check_output("docker tag %s %s", archive_image_id, SETTINGS["dask_image"])


def test_the_version_check_names_a_worker_of_another_release(connection):
    """A worker of the other image joins by hand; the collection's version check must name it."""
    worker = lab_host(WORKER_HOSTS[-1])
    worker.check_output("docker run -d --name stray-worker --network host %s start.sh dask worker %s "
                        "--name stray --dashboard-address 127.0.0.1:0", OTHER_IMAGE, connection["address"])
    try:
        script = (MOLECULE.parent / "roles" / "dask_scheduler" / "files" / "dask_versions.py").read_bytes()
        scheduler = lab_host(SCHEDULER_HOSTS[0])
        deadline = time.monotonic() + 60
        while True:
            out = scheduler.check_output("echo %s | base64 -d | docker exec -i %s python - %s jupyter",
                                         base64.b64encode(script).decode(), f"{CLUSTER}-jupyter",
                                         connection["address"])
            report = json.loads(out.splitlines()[-1])
            if "worker stray" in report["table"] or time.monotonic() > deadline:
                break
            time.sleep(2)
        assert report["required"] == ["distributed"], report
        assert re.search(r"distributed\s+worker stray\s+2026\.7\.0", report["table"]), report["table"]
    finally:
        worker.run("docker rm -f stray-worker")
