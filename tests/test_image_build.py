"""dask_image_source build and `make up` without a registry, on this machine's engine (inventories/local): the
image is built once from a base plus pip packages, pinned to a controller environment's Dask stack, run by every
container of the cluster, and a client from that environment matches it; playbooks/client.yml tells matching
and mismatching environments apart; `make up` builds its own Dask image where no registry serves the default.
What the tests expect comes from the images and interpreters themselves."""
from __future__ import annotations

import functools
import glob
import json
import os
import re
import shutil
import subprocess
import sys
import time

import pytest
import yaml
from conftest import BIN, ROOT, STANDIN_IMAGE, cluster_containers, playbook, run

LOCAL = ROOT / "inventories/local"
PROBE = yaml.safe_load((ROOT / "roles/dask/vars/main.yml").read_text())["__dask_build_probe"]
RECIPE_LABEL = "io.github.adhoc.dask_cluster.recipe-hash"
EXTRA_PACKAGE = "humanize"  # in the package index, not in the stand-in
NWORKERS = 1  # worker processes on this machine, in its one worker container


@functools.cache
def python_of(*interpreter: str) -> str:
    return json.loads(subprocess.run([*interpreter, "-c", PROBE], capture_output=True, text=True,
                                     check=True).stdout)["python"]


def standin_python() -> str:
    return python_of("docker", "run", "--rm", "--network", "none", "--entrypoint", "python", STANDIN_IMAGE)


@functools.cache
def other_python() -> str:
    """An interpreter on this machine whose Python minor version is not the stand-in's."""
    theirs = standin_python()
    on_path = [shutil.which(f"python3.{minor}") for minor in range(6, 20)]
    pyenv = glob.glob(os.path.expanduser("~/.pyenv/versions/3.*/bin/python3"))
    for candidate in sorted(filter(None, on_path)) + sorted(pyenv):
        runs = subprocess.run([candidate, "-c", "pass"], capture_output=True).returncode == 0  # not a dead shim
        if runs and python_of(candidate) != theirs:
            return candidate
    pytest.fail(f"this test needs a Python interpreter of another minor version than the stand-in's {theirs}")


def settings(name: str, port: int, out_dir, **more) -> list[str]:
    return ["-e", json.dumps({
        "dask_cluster_name": name, "dask_image": STANDIN_IMAGE, "dask_image_pull": "never",
        "dask_scheduler_host": "127.0.0.1", "dask_scheduler_port": port, "dask_dashboard_port": port + 1,
        "dask_jupyter_port": port + 2, "dask_worker_nworkers": NWORKERS, "dask_cluster_output_dir": str(out_dir),
        **more})]


def versions_task():
    """A function for a worker (defined here so that it travels by value, not as this module's name): each
    package's installed version, None where it is missing."""
    def versions_of(names):
        from importlib import metadata as found
        versions = {}
        for name in names:
            try:
                versions[name] = found.version(name)
            except found.PackageNotFoundError:
                versions[name] = None
        return versions
    return versions_of


def client_for(out_dir):
    from distributed import Client, Security
    connection = json.loads((out_dir / "connection.json").read_text())
    security = {k: str(out_dir / v) if k.startswith("tls_") else v for k, v in connection["security"].items()}
    return Client(connection["address"], security=Security(**security), timeout=60)


def container_images(cluster: str) -> set[str]:
    return {subprocess.run(["docker", "inspect", "--format", "{{.Config.Image}}", name], capture_output=True,
                           text=True, check=True).stdout.strip() for name in cluster_containers(cluster)}


def image_id_of(image: str) -> str:
    return subprocess.run(["docker", "image", "inspect", "--format", "{{.Id}}", image], capture_output=True,
                          text=True, check=True).stdout.strip()


def image_label(image: str, label: str) -> str:
    return subprocess.run(["docker", "image", "inspect", "--format", f'{{{{ index .Config.Labels "{label}" }}}}',
                           image], capture_output=True, text=True, check=True).stdout.strip()


def wait_healthy(container: str, seconds: float = 90) -> str:
    deadline = time.monotonic() + seconds
    while True:
        status = subprocess.run(["docker", "inspect", "--format", "{{.State.Health.Status}}", container],
                                capture_output=True, text=True, check=True).stdout.strip()
        if status != "starting" or time.monotonic() > deadline:
            return status
        time.sleep(1)


def test_a_base_of_another_python_than_the_matched_environment_is_refused_before_anything(tmp_path):
    other = other_python()
    result = playbook("up", LOCAL, *settings("buildrefused", 26786, tmp_path, dask_image_source="build",
                                             dask_image_match_python=other))
    output = " ".join((result.stdout + result.stderr).split())
    assert result.returncode != 0
    assert (f"dask_image_build_base '{STANDIN_IMAGE}' runs Python {standin_python()}, but dask_image_match_python "
            f"'{other}' is Python {python_of(other)}") in output, output[-3000:]
    assert cluster_containers("buildrefused") == []
    assert not (tmp_path / "image.tar").exists()


def test_a_matched_interpreter_without_dask_is_refused_before_anything(tmp_path):
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(tmp_path / "bare")], check=True)
    bare = str(tmp_path / "bare" / "bin" / "python")
    result = playbook("up", LOCAL, *settings("buildrefused", 26786, tmp_path, dask_image_source="build",
                                             dask_image_match_python=bare))
    output = " ".join((result.stdout + result.stderr).split())
    assert result.returncode != 0
    assert f"dask_image_match_python '{bare}' has no dask or distributed installed" in output, output[-3000:]
    assert cluster_containers("buildrefused") == []


def test_check_mode_names_the_image_it_would_build_and_builds_nothing(tmp_path):
    result = playbook("up", LOCAL, "--check", *settings("buildcheck", 26786, tmp_path, dask_image_source="build",
                                                        dask_image_packages=[EXTRA_PACKAGE]))
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-4000:]
    image = re.search(r"(dask-cluster/buildcheck:[0-9a-f]{16}) would be built from " + re.escape(STANDIN_IMAGE),
                      output)
    assert image, output[-4000:]
    assert subprocess.run(["docker", "image", "inspect", image.group(1)], capture_output=True).returncode != 0
    assert cluster_containers("buildcheck") == [] and not (tmp_path / "image.tar").exists()


def test_the_registry_probe_falls_back_only_when_no_registry_can_be_reached():
    sys.path.insert(0, str(ROOT / "tools"))
    import up
    assert "connection refused" in up.registry_unreachable("127.0.0.1:9/adhoc-test/none:1")
    # A registry that answers, with the image and without the tag: up.yml's pull is the one to report.
    command = [sys.executable, str(ROOT / "tools" / "lab_registry.py"),
               str(ROOT / ".cache" / "images" / "gds-standin.tar"), "--listen", "127.0.0.1:5053"]
    server = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    try:
        ready = server.stdout.readline().split()
        assert ready and ready[0] == "ready", ready
        name = ready[1].split(":")[0]
        assert up.registry_unreachable(f"127.0.0.1:5053/{name}:{ready[1].split(':')[1]}") is None
        assert up.registry_unreachable(f"127.0.0.1:5053/{name}:no-such-tag") is None
    finally:
        server.terminate()
        server.wait(timeout=10)


@pytest.fixture(scope="module")
def built_cluster(tmp_path_factory):
    out_dir = tmp_path_factory.mktemp("built")
    extra = settings("buildtest", 26786, out_dir, dask_image_source="build", dask_image_packages=[EXTRA_PACKAGE],
                     dask_image_match_python=sys.executable)
    first = playbook("up", LOCAL, *extra)
    try:
        yield first, extra, out_dir
    finally:
        playbook("down", LOCAL, *extra)


def test_every_container_runs_the_image_built_from_the_base_and_named_by_its_recipe(built_cluster):
    first, _, _ = built_cluster
    assert first.returncode == 0, (first.stdout + first.stderr)[-4000:]
    images = container_images("buildtest")
    assert len(images) == 1, images
    roles = ("jupyter", "scheduler", "worker")
    assert sorted(cluster_containers("buildtest")) == [f"buildtest-{role}" for role in roles]
    image = images.pop()
    name, tag = image.rsplit(":", 1)
    assert name == "dask-cluster/buildtest" and image_label(image, RECIPE_LABEL) == tag
    layers = [json.loads(subprocess.run(["docker", "image", "inspect", "--format", "{{json .RootFS.Layers}}", i],
                                        capture_output=True, text=True, check=True).stdout) for i in
              (STANDIN_IMAGE, image)]
    assert layers[1][:len(layers[0])] == layers[0] and len(layers[1]) > len(layers[0])


def test_the_workers_have_the_added_package_and_the_matched_stack(built_cluster):
    _, _, out_dir = built_cluster
    lacking = subprocess.run(["docker", "run", "--rm", "--network", "none", "--entrypoint", "python",
                              STANDIN_IMAGE, "-c", f"import {EXTRA_PACKAGE}"], capture_output=True)
    assert lacking.returncode != 0  # the base lacks it: the build added it
    stack = json.loads(subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True,
                                      check=True).stdout)["packages"]  # this environment's, None where missing
    with client_for(out_dir) as client:
        assert len(client.scheduler_info()["workers"]) == NWORKERS
        remote = client.submit(versions_task(), [EXTRA_PACKAGE, *stack], pure=False).result()
        assert client.submit(sum, range(100)).result() == 4950
    assert remote.pop(EXTRA_PACKAGE)
    assert remote == stack


def test_a_rerun_builds_nothing_and_changes_nothing(built_cluster):
    _, extra, out_dir = built_cluster
    archive = out_dir / "image.tar"
    before = archive.stat().st_mtime_ns
    (image,) = container_images("buildtest")
    image_id = image_id_of(image)
    again = playbook("up", LOCAL, *extra)
    output = again.stdout + again.stderr
    assert again.returncode == 0, output[-4000:]
    assert re.search(r"TASK \[[^]]*build \| Name the image by its recipe[^]]*\][^\n]*\nok", output), output[-4000:]
    assert not re.search(r"TASK \[[^]]*build \| (Download|Build)[^]]*\][^\n]*\n(ok|changed)", output)
    assert sum(int(n) for n in re.findall(r"changed=(\d+)", output)) == 0, output[-4000:]
    assert archive.stat().st_mtime_ns == before
    assert container_images("buildtest") == {image} and image_id_of(image) == image_id


def test_client_playbook_tells_a_matching_environment_from_another(built_cluster):
    _, extra, out_dir = built_cluster
    same = playbook("client", LOCAL, *extra, "-e", f"dask_client_python={sys.executable}")
    assert same.returncode == 0 and f"{sys.executable} matches cluster buildtest" in same.stdout, same.stdout[-3000:]
    other = other_python()
    differs = playbook("client", LOCAL, *extra, "-e", f"dask_client_python={other}")
    output = differs.stdout + differs.stderr
    assert differs.returncode != 0 and "cannot safely use cluster buildtest" in " ".join(output.split()), output[-3000:]
    assert re.search(rf"python\s+{re.escape(standin_python())}\S*\s+{re.escape(python_of(other))}\s+differs",
                     output), output[-3000:]


def test_client_playbook_without_a_cluster_here_says_where_it_looked():
    result = playbook("client", LOCAL, "-e", "dask_cluster_name=noclusterhere")
    output = " ".join((result.stdout + result.stderr).split())
    assert result.returncode != 0
    assert re.search(r"No \S*/\.dask/noclusterhere/connection\.json: up\.yml writes it where it ran", output), output[-2000:]


def test_make_up_runs_the_up_tool():
    makefile = (ROOT / "Makefile").read_text()
    assert re.search(r"^up: .*\n\t\$\(BIN\)/python tools/up\.py -i \$\(INVENTORY\)$", makefile, re.M)


def test_make_up_without_a_registry_builds_a_dask_image_here_and_a_client_runs_work(tmp_path):
    # An image whose registry is this machine's port 9, where nothing listens: no traffic leaves the machine.
    missing = "127.0.0.1:9/adhoc-test/no-registry:1"
    up = [str(BIN / "python"), "tools/up.py", "--image", missing,
          *settings("makeup", 25786, tmp_path, dask_image=missing)]
    pins = dict(re.sub(r"\[.*\]", "", line).split("==") for line in
                (ROOT / "tools/images/gds_standin/requirements.txt").read_text().splitlines()
                if "==" in line and not line.startswith("#"))
    try:
        result = run(*up, timeout=1500)
        output = result.stdout + result.stderr
        assert result.returncode == 0, output[-5000:]
        assert f"make up: {missing} is not on this engine, and no registry can be reached" in output
        assert "this cluster runs a Dask image built here" in output
        with client_for(tmp_path) as client:
            assert len(client.scheduler_info()["workers"]) == NWORKERS
            assert client.submit(sum, range(10)).result() == 45
            remote = client.submit(versions_task(), list(pins), pure=False).result()
        assert remote == pins
        assert wait_healthy("makeup-jupyter") == "healthy"
        bases = local_bases()
        again = run(*up, timeout=600)
        assert again.returncode == 0, (again.stdout + again.stderr)[-5000:]
        assert "from Debian's packages" not in again.stdout and local_bases() == bases and len(bases) == 1
        assert sum(int(n) for n in re.findall(r"changed=(\d+)", again.stdout)) == 0, again.stdout[-4000:]
    finally:
        playbook("down", LOCAL, *settings("makeup", 25786, tmp_path))


def local_bases() -> list[str]:
    """The IDs of the Debian bases `make up` built (tools/up.py's BASE_NAME)."""
    return subprocess.run(["docker", "images", "--format", "{{.ID}}", "dask-cluster/debian-python"],
                          capture_output=True, text=True, check=True).stdout.split()
