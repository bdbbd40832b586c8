"""dask_image_source build on the lab: the image is built once on the controller from the stand-in plus a package
of the package index, brought to every machine over SSH through the archive path, and run by every container:
each worker and Jupyter import the package. A re-run builds and copies nothing; a changed package list builds
and copies once. Leaves the cluster on the scenario's archive image, as it found it."""
from __future__ import annotations

import json
import re
import subprocess

import pytest
from conftest import CLUSTER, SCHEDULER_HOSTS, connection, expected_workers, lab_host, security  # noqa: F401
from test_offline import MACHINES, converge

# A name of the tests' own: the controller's engine keeps what earlier runs built under it, which they remove.
BUILD_NAME = "adhoc-test/offline-build"


def build_settings(*packages: str) -> list[str]:
    return ["-e", json.dumps({"dask_image_source": "build", "dask_image_packages": list(packages),
                              "dask_image_build_name": BUILD_NAME})]


def remove_built_images() -> None:
    held = subprocess.run(["docker", "images", "--format", "{{.Repository}}:{{.Tag}}", BUILD_NAME],
                          capture_output=True, text=True, check=True).stdout.split()
    if held:
        subprocess.run(["docker", "rmi", *held], capture_output=True, check=True)


def cluster_images() -> dict[str, set[str]]:
    """Per machine, the images its cluster containers were created from."""
    return {name: set(lab_host(name).check_output(
        "docker ps --filter label=io.github.adhoc.dask_cluster.cluster=%s --format '{{.Image}}'", CLUSTER).split())
        for name in MACHINES}


def steps_that_changed(output: str, step: str) -> int:
    """How many machines report `changed` for the task whose name holds `step`."""
    counts = [len(re.findall(r"^changed: ", block, re.M))
              for block in re.findall(rf"TASK \[[^]]*{step}[^]]*\][^\n]*\n(.*?)(?=\nTASK |\nPLAY )", output, re.S)]
    return sum(counts)


@pytest.fixture(scope="module")
def first_build():
    remove_built_images()
    result = converge(*build_settings("humanize"))
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-5000:]
    yield output
    # Back to the scenario's own archive, for the tests that run after these.
    restored = converge()
    assert restored.returncode == 0, (restored.stdout + restored.stderr)[-5000:]


def test_the_image_is_built_once_and_copied_to_every_machine(first_build):
    assert steps_that_changed(first_build, r"build \| Build the image") == 1, first_build[-5000:]
    assert steps_that_changed(first_build, "Copy the archive") == len(MACHINES), first_build[-5000:]
    images = cluster_images()
    built = set().union(*images.values())
    assert len(built) == 1 and all(images.values()), images
    assert re.fullmatch(rf"{re.escape(BUILD_NAME)}:[0-9a-f]{{16}}", built.pop())


def test_every_worker_and_jupyter_import_the_added_package(first_build, connection):
    from distributed import Client

    with Client(connection["address"], security=security(connection), timeout=60) as client:
        found = client.run(lambda: __import__("humanize").__name__)
    workers = sum(len(machine["names"]) for machine in expected_workers().values())
    assert list(found.values()) == ["humanize"] * workers, found
    scheduler = lab_host(SCHEDULER_HOSTS[0])
    scheduler.check_output("docker exec %s-jupyter python -c 'import humanize'", CLUSTER)


def test_a_rerun_builds_and_copies_nothing(first_build):
    again = converge("-v", *build_settings("humanize"))
    output = again.stdout + again.stderr
    assert again.returncode == 0, output[-5000:]
    assert sum(int(n) for n in re.findall(r"changed=(\d+)", output)) == 0, output[-5000:]
    assert steps_that_changed(output, "Copy the archive") == 0


def test_a_changed_package_list_builds_and_copies_once(first_build):
    before = set().union(*cluster_images().values())
    changed = converge(*build_settings("humanize", "termcolor"))
    output = changed.stdout + changed.stderr
    assert changed.returncode == 0, output[-5000:]
    assert steps_that_changed(output, r"build \| Build the image") == 1
    assert steps_that_changed(output, "Copy the archive") == len(MACHINES)
    after = set().union(*cluster_images().values())
    assert len(after) == 1 and after != before, (before, after)
    again = converge(*build_settings("humanize", "termcolor"))
    assert again.returncode == 0 and sum(int(n) for n in re.findall(r"changed=(\d+)", again.stdout)) == 0
