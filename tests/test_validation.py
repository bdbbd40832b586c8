"""Bad input is refused before anything on any machine is touched, with a message that names the problem.

Every inventory here points at this machine (local connection) with a runnable image, so a check that let
bad input through would really create containers on the local engine; each test asserts none exists."""
from __future__ import annotations

import socket
import subprocess

import pytest
from conftest import ROOT, STANDIN_IMAGE, cluster_containers, playbook

STANDIN_OTHER_ARCHIVE = ROOT / ".cache" / "images" / "gds-standin-other.tar"

CLUSTER = "validation"
LOCAL = {"ansible_connection": "local", "ansible_python_interpreter": "{{ ansible_playbook_python }}"}
GOOD_VARS = {"dask_cluster_name": CLUSTER, "dask_image": STANDIN_IMAGE, "dask_image_pull": "never",
             "dask_scheduler_host": "127.0.0.1", "dask_scheduler_port": 18786, "dask_dashboard_port": 18787,
             "dask_jupyter_port": 18888}


def inventory(schedulers=("node1",), workers=("node1",), host_vars=None, group_vars=None) -> dict:
    hosts = {name: dict(LOCAL, **(host_vars or {}).get(name, {})) for name in {*schedulers, *workers}}
    children = {}
    if schedulers:
        children["dask_scheduler"] = {"hosts": {name: None for name in schedulers}}
    if workers:
        children["dask_workers"] = {"hosts": {name: None for name in workers}}
    return {"all": {"hosts": hosts, "children": children, "vars": dict(GOOD_VARS, **(group_vars or {}))}}


BAD_INPUTS = {
    "no scheduler": (inventory(schedulers=()), "dask_scheduler holds 0 machines"),
    "two schedulers": (inventory(schedulers=("node1", "node2")), "dask_scheduler holds 2 machines (node1, node2)"),
    "no workers": (inventory(workers=()), "dask_workers is empty or missing"),
    "zero worker processes": (inventory(host_vars={"node1": {"dask_worker_nworkers": 0}}),
                              "dask_worker_nworkers is '0' on host node1"),
    "unparseable memory limit": (inventory(host_vars={"node1": {"dask_worker_memory_limit": "lots"}}),
                                 "dask_worker_memory_limit 'lots' on host node1 is not a limit Dask reads"),
    "negative memory limit": (inventory(host_vars={"node1": {"dask_worker_memory_limit": "-2GB"}}),
                              "dask_worker_memory_limit '-2GB' on host node1"),
    "worker count not a number": (inventory(host_vars={"node1": {"dask_worker_nworkers": "two"}}),
                                  "dask_worker_nworkers"),
    "zero threads": (inventory(host_vars={"node1": {"dask_worker_nthreads": 0}}),
                     "dask_worker_nthreads is '0' on host node1"),
    "dashboard on the scheduler port": (inventory(group_vars={"dask_dashboard_port": 18786}),
                                        "must be whole numbers from 1 to 65535, all different"),
    "port out of range": (inventory(group_vars={"dask_jupyter_port": 70000}),
                          "must be whole numbers from 1 to 65535"),
    "unknown pull policy": (inventory(group_vars={"dask_image_pull": "sometimes"}), "dask_image_pull"),
    "invalid cluster name": (inventory(group_vars={"dask_cluster_name": "My Cluster"}),
                             "dask_cluster_name 'My Cluster' (host node1) must be"),
    "archive that does not exist": (
        inventory(group_vars={"dask_image_source": "archive", "dask_image_archive": "/nonexistent/gds.tar"}),
        "dask_image_archive '/nonexistent/gds.tar' must be a `docker save` tar on the controller that holds "
        f"{STANDIN_IMAGE} (no such file)"),
    "archive of another image": (
        inventory(group_vars={"dask_image_source": "archive", "dask_image_archive": str(STANDIN_OTHER_ARCHIVE)}),
        "(it holds adhoc-test/gds-standin:other-distributed)"),
    "unknown image source": (inventory(group_vars={"dask_image_source": "usb-stick"}), "dask_image_source"),
    "machines disagree on TLS": (
        inventory(schedulers=("node1",), workers=("node2",), host_vars={"node2": {"dask_tls_enabled": False}}),
        "Collection-wide settings differ between machines"),
    "image reference Docker cannot parse": (inventory(group_vars={"dask_image": "darribas/gds_dev::10.0"}),
                                            "dask_image 'darribas/gds_dev::10.0' (host node1) is not an image"),
    "unknown container state": (inventory(group_vars={"dask_worker_state": "paused"}), "dask_worker_state"),
    "negative minimum worker count": (inventory(group_vars={"dask_min_workers": -1}),
                                      "dask_min_workers -1 (host node1) must be 0"),
    "more workers required than expected": (
        inventory(host_vars={"node1": {"dask_worker_nworkers": 2}}, group_vars={"dask_min_workers": 3}),
        "dask_min_workers is 3, but the inventory expects only 2 worker processes"),
    "scheduler machine that does not answer": (
        inventory(host_vars={"node1": {"ansible_connection": "ssh", "ansible_host": "127.0.0.1", "ansible_port": 1}}),
        "The scheduler's machine node1 does not answer"),
    "machines disagree on the image": (
        inventory(schedulers=("node1",), workers=("node2",), host_vars={"node2": {"dask_image": "other:1"}}),
        "Collection-wide settings differ between machines"),
}


@pytest.mark.parametrize("case", BAD_INPUTS, ids=list(BAD_INPUTS))
def test_bad_input_is_refused_before_any_machine_is_touched(inventory_file, case):
    inv, message = BAD_INPUTS[case]
    result = playbook("up", inventory_file(inv))
    output = result.stdout + result.stderr
    assert result.returncode != 0, output
    assert message in " ".join(output.split()), output
    assert "PLAY [Bring up the scheduler" not in output, "validation let the run reach the machines"
    assert cluster_containers(inv["all"]["vars"]["dask_cluster_name"]) == []


def test_a_limited_up_is_refused_before_any_machine_is_touched(inventory_file):
    inv = inventory(schedulers=("node1",), workers=("node1", "node2"))
    result = playbook("up", inventory_file(inv), "--limit", "node2")
    output = " ".join((result.stdout + result.stderr).split())
    assert result.returncode != 0, output
    assert "up.yml was run with --limit node2: it checks, starts and counts the whole cluster" in output
    assert cluster_containers(CLUSTER) == []


def test_a_container_of_the_user_holding_a_cluster_name_is_refused_and_kept(inventory_file):
    name = f"{CLUSTER}-scheduler"
    subprocess.run(["docker", "run", "-d", "--name", name, STANDIN_IMAGE, "sleep", "infinity"],
                   check=True, capture_output=True)
    try:
        result = playbook("up", inventory_file(inventory()))
        output = " ".join((result.stdout + result.stderr).split())
        assert result.returncode != 0, output
        assert f"a container named '{name}' exists that this collection did not create" in output
        running = subprocess.run(["docker", "inspect", "--format", "{{.State.Running}}", name],
                                 capture_output=True, text=True, check=True).stdout.strip()
        assert running == "true"
        assert cluster_containers(CLUSTER) == []
    finally:
        subprocess.run(["docker", "rm", "-f", name], capture_output=True)


def test_another_cluster_on_the_same_ports_is_refused_before_anything_changes(inventory_file):
    """Two clusters may share a machine, not its ports: the second is refused, naming cluster, container, ports."""
    name = "validation-neighbour"
    subprocess.run(["docker", "run", "-d", "--name", name, "--label", "io.github.adhoc.dask_cluster.cluster=neighbour",
                    "--label", "io.github.adhoc.dask_cluster.ports=18786,18787", STANDIN_IMAGE, "sleep", "infinity"],
                   check=True, capture_output=True)
    try:
        result = playbook("up", inventory_file(inventory()))
        output = " ".join((result.stdout + result.stderr).split())
        assert result.returncode != 0, output
        assert f"cluster 'neighbour' (container {name}) listens on 18786, 18787" in output, output[-3000:]
        assert "PLAY [Bring up the scheduler" not in output
        assert cluster_containers(CLUSTER) == []
        assert cluster_containers("neighbour") == [name]
    finally:
        subprocess.run(["docker", "rm", "-f", name], capture_output=True)


def test_a_port_held_by_another_program_is_refused_naming_its_setting(inventory_file):
    """The guide's JupyterLab on 8888, say: the cluster's container could not bind the port. Held here by this
    test's own listening socket, on the loopback address only (any address blocks a container on the host's
    network)."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", GOOD_VARS["dask_jupyter_port"]))
        listener.listen()
        result = playbook("up", inventory_file(inventory()))
    output = " ".join((result.stdout + result.stderr).split())
    assert result.returncode != 0, output
    assert ("Host node1: a program or container that is not cluster 'validation' (a JupyterLab or Dask scheduler "
            "started by hand, say) already holds port 18888 (dask_jupyter_port)") in output, output[-3000:]
    assert "PLAY [Bring up the scheduler" not in output
    assert cluster_containers(CLUSTER) == []


@pytest.mark.parametrize("docker_host, message", [
    ("unix:///nonexistent/docker.sock",
     "Docker does not answer on /nonexistent/docker.sock ([Errno 2] No such file or directory): start the Docker "
     "engine on this machine"),
    ("tcp://127.0.0.1:1", "DOCKER_HOST is tcp://127.0.0.1:1 on this machine; the collection reaches Docker on a unix "
                          "socket only"),
], ids=["engine down", "engine over tcp"])
def test_a_machine_whose_docker_cannot_be_reached_is_named_with_what_to_do(inventory_file, docker_host, message):
    """The first contact reads each machine's engine; an engine it cannot reach fails that machine, saying why."""
    result = playbook("up", inventory_file(inventory()), env={"DOCKER_HOST": docker_host})
    output = " ".join((result.stdout + result.stderr).split())
    assert result.returncode != 0, output
    assert "fatal: [node1]" in output and message in output, output[-3000:]
    assert "PLAY [Bring up the scheduler" not in output
    assert cluster_containers(CLUSTER) == []


def test_down_with_a_bad_cluster_name_on_one_machine_removes_nothing_anywhere(inventory_file):
    """down.yml checks every machine's cluster name before any machine's removal starts."""
    name = f"{CLUSTER}-worker"
    subprocess.run(["docker", "run", "-d", "--name", name, "--label", f"io.github.adhoc.dask_cluster.cluster={CLUSTER}",
                    "--label", "io.github.adhoc.dask_cluster.role=worker", STANDIN_IMAGE, "sleep", "infinity"],
                   check=True, capture_output=True)
    try:
        inv = inventory(schedulers=("node1",), workers=("node1", "node2"),
                        host_vars={"node2": {"dask_cluster_name": "Bad Name"}})
        result = playbook("down", inventory_file(inv))
        output = " ".join((result.stdout + result.stderr).split())
        assert result.returncode != 0, output
        assert "dask_cluster_name 'Bad Name' (host node2): it must be 1-40 characters" in output, output[-3000:]
        assert cluster_containers(CLUSTER) == [name]
    finally:
        subprocess.run(["docker", "rm", "-f", name], capture_output=True)
