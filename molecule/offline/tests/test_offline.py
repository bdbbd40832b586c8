"""Offline: the image reaches machines only through the collection, one image runs everywhere, a re-run
transfers nothing, and a mixed cluster is refused with the machine and both image IDs named. Registry mode,
against the lab's own registry (tools/lab_registry.py): a machine holding another image under the same name
is brought in line by digest. Long pulls and copies show their progress while they run."""
from __future__ import annotations

import base64
import json
import os
import re
import subprocess
import sys
import time
from contextlib import contextmanager
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


def ad_hoc(host: str, module: str, args: dict) -> str:
    """Run one of the collection's modules on a lab host; its whole output (progress lines included)."""
    result = subprocess.run(["ansible", "-i", INVENTORY, host, "-m", module, "-a", json.dumps(args)],
                            capture_output=True, text=True, env=os.environ, timeout=600)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-3000:]
    return output


@contextmanager
def lab_registry(archive: Path, rate_mib_s: float | None = None):
    """tools/lab_registry.py serving archive on the lab network's gateway; yields (host:port, digest)."""
    # This machine, as the lab hosts reach it: their default gateway on the lab network.
    gateway = lab_host(MACHINES[0]).check_output("ip route show default").split()[2]
    listen = f"{gateway}:5052"
    command = [sys.executable, str(MOLECULE.parent / "tools" / "lab_registry.py"), str(archive), "--listen", listen]
    server = subprocess.Popen(command + (["--rate", str(rate_mib_s)] if rate_mib_s else []),
                              stdout=subprocess.PIPE, text=True)
    try:
        ready = server.stdout.readline().split()
        assert ready and ready[0] == "ready", f"lab registry did not start: {ready}"
        yield listen, ready[2]
    finally:
        server.terminate()
        server.wait(timeout=10)


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
    # The collection's temporary directories, archives and partial copies all start so.
    leftover = lab_host(name).run("ls -d /var/tmp/dask_cluster-*")
    assert leftover.rc != 0, leftover.stdout


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


def test_a_copy_shows_progress_and_lands_verified():
    archive = Path(SETTINGS["dask_image_archive"])
    worker = lab_host(WORKER_HOSTS[0])
    dest = "/var/tmp/progress-test.tar"
    try:
        output = ad_hoc(WORKER_HOSTS[0], "adhoc.dask_cluster.dask_image_transfer",
                        {"src": str(archive), "dest": dest, "chunk_size": 16 << 20, "progress_interval": 0.2})
        # The total is the archive this run built, as the progress line rounds it: MiB with one decimal.
        total = f"{archive.stat().st_size / 2**20:.1f} MiB"
        assert re.search(rf"copying gds-standin\.tar: [\d.]+ MiB of {re.escape(total)} \(\d+ %\)", output), output
        assert "SHA-256 verified" in output, output
        expected = subprocess.run(["sha256sum", str(archive)], capture_output=True, text=True).stdout.split()[0]
        assert worker.check_output("sha256sum %s", dest).split()[0] == expected
        assert worker.run("ls %s.partial", dest).rc != 0
    finally:
        worker.run("rm -f %s", dest)


def test_a_pull_shows_progress_while_it_runs(tmp_path):
    """An image whose 160 MiB layer no lab machine holds, pulled at 16 MiB/s: about ten seconds of progress, so
    that a busy controller still polls it more than once."""
    noise = tmp_path / "noise"
    noise.write_bytes(os.urandom(160 << 20))
    subprocess.run(f"tar -C {tmp_path} -c noise | docker import - adhoc-test/noise:ci", shell=True, check=True,
                   capture_output=True)
    subprocess.run(["docker", "save", "-o", str(tmp_path / "noise.tar"), "adhoc-test/noise:ci"], check=True)
    subprocess.run(["docker", "rmi", "adhoc-test/noise:ci"], check=True, capture_output=True)
    worker = lab_host(WORKER_HOSTS[0])
    with lab_registry(tmp_path / "noise.tar", rate_mib_s=16) as (registry, _):
        reference = f"{registry}/adhoc-test/noise:ci"
        try:
            output = ad_hoc(WORKER_HOSTS[0], "adhoc.dask_cluster.dask_image_pull",
                            {"name": reference, "progress_interval": 1})
            percents = [int(p) for p in re.findall(rf"pulling {re.escape(reference)}: [01] of 1 layers, "
                                                   r"[\d.]+ \w+ of 160\.0 MiB \((\d+) %\)", output)]
            assert len(percents) >= 2 and percents == sorted(percents), output
            assert worker.run("docker image inspect %s", reference).rc == 0
        finally:
            worker.run("docker rmi %s", reference)


def test_registry_mode_brings_a_machine_holding_another_image_in_line(archive_image_id):
    """worker2 holds another image under the registry's name: it must get the cluster's digest, not keep it."""
    archive = Path(SETTINGS["dask_image_archive"])
    worker = lab_host(WORKER_HOSTS[-1])
    with lab_registry(archive) as (registry, digest):
        image = f"{registry}/adhoc-test/gds-standin:ci"
        worker.check_output("docker tag %s %s", OTHER_IMAGE, image)
        result = converge("-e", "dask_image_source=registry", "-e", "dask_image_pull=missing",
                          "-e", f"dask_image={image}")
        output = result.stdout + result.stderr
        assert result.returncode == 0, output[-5000:]
    for name in MACHINES:
        host = lab_host(name)
        assert image_id_on(host, image) == archive_image_id, name
        assert f"{image.rsplit(':', 1)[0]}@{digest}" in host.check_output(
            "docker image inspect --format '{{json .RepoDigests}}' %s", image), name


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
