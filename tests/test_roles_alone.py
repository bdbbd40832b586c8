"""The roles in a user's own playbook (tests/playbooks/roles_alone.yml, the example of docs/playbooks.md), on this machine:
they check their inputs and the machine themselves, bring up a cluster a Client can use, change nothing on a
re-run, and remove what they made with state absent. Jupyter without HTTPS (TLS on) keeps to loopback."""
from __future__ import annotations

import json
import re
import socket
import subprocess
import time
import urllib.error
import urllib.request
import warnings
from pathlib import Path

import pytest
from conftest import BIN, STANDIN_IMAGE, cluster_containers, run, write_inventory

CLUSTER = "alone"
# Jupyter over plain HTTP with TLS on: the variant that keeps Jupyter (as the dashboard) on loopback.
SETTINGS = {"dask_cluster_name": CLUSTER, "dask_image": STANDIN_IMAGE, "dask_image_pull": "never",
            "dask_scheduler_host": "127.0.0.1", "dask_scheduler_port": 38786, "dask_dashboard_port": 38787,
            "dask_jupyter_port": 38888, "dask_jupyter_https": False}


def roles_alone(inventory, *extra: str):
    return run(str(BIN / "ansible-playbook"), "tests/playbooks/roles_alone.yml", "-i", str(inventory), *extra)


@pytest.fixture(scope="module")
def inventory(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("alone")
    local = {"ansible_connection": "local", "ansible_python_interpreter": "{{ ansible_playbook_python }}",
             "ansible_host": "127.0.0.1"}
    settings = dict(SETTINGS, dask_cluster_output_dir=str(tmp / "out"))
    return write_inventory(tmp / "hosts.yml", {"all": {
        "hosts": {"localhost": local}, "vars": settings,
        "children": {"dask_scheduler": {"hosts": {"localhost": None}},
                     "dask_workers": {"hosts": {"localhost": None}}}}})


def test_a_port_another_program_holds_is_refused_before_anything_changes(inventory):
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", SETTINGS["dask_dashboard_port"]))
        listener.listen()
        result = roles_alone(inventory)
    output = " ".join((result.stdout + result.stderr).split())
    assert result.returncode != 0, output
    assert "already holds port 38787 (dask_dashboard_port)" in output, output[-3000:]
    assert cluster_containers(CLUSTER) == []


@pytest.fixture(scope="module")
def cluster(inventory):
    first = roles_alone(inventory)
    try:
        yield first
    finally:
        roles_alone(inventory, "-e", "dask_scheduler_state=absent", "-e", "dask_worker_state=absent")


def test_the_roles_bring_up_a_cluster_a_client_uses(cluster, inventory):
    from distributed import Client, Security

    assert cluster.returncode == 0, cluster.stdout[-4000:] + cluster.stderr
    out = inventory.parent / "out"
    security = Security(tls_ca_file=str(out / "ca.pem"), tls_client_cert=str(out / "client-cert.pem"),
                        tls_client_key=str(out / "client-key.pem"), require_encryption=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the image's Python differs in its patch level only
        with Client("tls://127.0.0.1:38786", security=security, timeout=30) as client:
            client.wait_for_workers(1, timeout=60)
            assert [str(w["name"]) for w in client.scheduler_info(n_workers=-1)["workers"].values()] == ["localhost"]
            assert client.submit(sum, range(11)).result() == 55


def listening(port: int, timeout: float = 60) -> list[str]:
    """The local addresses this machine listens on at a TCP port, once something does (or after timeout)."""
    deadline = time.monotonic() + timeout
    while True:
        out = subprocess.run(["ss", "-Hltn", f"sport = :{port}"], capture_output=True, text=True, check=True).stdout
        if out.strip() or time.monotonic() > deadline:
            return sorted({line.split()[3].rsplit(":", 1)[0] for line in out.splitlines()})
        time.sleep(1)


def test_without_https_jupyter_keeps_to_loopback_as_the_dashboard_does(cluster, inventory):
    """With TLS on, what has no TLS of its own (Jupyter over HTTP here) or no login (the dashboard) listens on
    127.0.0.1 only, so the token never crosses the network in cleartext; the scheduler listens everywhere."""
    assert cluster.returncode == 0, cluster.stdout[-4000:] + cluster.stderr
    assert listening(SETTINGS["dask_jupyter_port"]) == ["127.0.0.1"]
    assert listening(SETTINGS["dask_dashboard_port"]) == ["127.0.0.1"]
    assert "0.0.0.0" in listening(SETTINGS["dask_scheduler_port"])
    token = (inventory.parent / "out" / "jupyter_token").read_text().strip()
    assert len(token) == 48
    # Jupyter's root is the notebook directory (dask_cluster_data_root's default), where saved work outlives it.
    saved = Path("/var/lib/dask_cluster") / CLUSTER / "notebooks" / "saved-by-the-test.txt"
    saved.write_text("kept")
    try:
        url = f"http://127.0.0.1:{SETTINGS['dask_jupyter_port']}/api/contents"
        for sent, status in ((token, 200), (None, 403)):
            request = urllib.request.Request(url, headers={"Authorization": f"token {sent}"} if sent else {})
            try:
                answer = urllib.request.urlopen(request, timeout=10)
            except urllib.error.HTTPError as exc:
                answer = exc
            assert answer.status == status, sent
            if status == 200:
                assert saved.name in [item["name"] for item in json.load(answer)["content"]]
    finally:
        saved.unlink()


def test_a_rerun_of_the_roles_changes_nothing(cluster, inventory):
    again = roles_alone(inventory)
    assert again.returncode == 0, again.stdout[-4000:] + again.stderr
    assert sum(int(n) for n in re.findall(r"changed=(\d+)", again.stdout)) == 0, again.stdout


def test_a_paused_worker_container_that_is_otherwise_as_asked_is_resumed_not_recreated(cluster, inventory):
    """A role run on its own reads no image ID, so community.docker decides whether the paused container must be
    recreated; it need not be, so it is resumed: the same container, with the results its workers hold."""
    name = f"{CLUSTER}-worker"
    inspect = ["docker", "inspect", "--format", "{{.Id}} {{.State.Paused}}", name]
    before = subprocess.run(inspect, capture_output=True, text=True, check=True).stdout.split()[0]
    subprocess.run(["docker", "pause", name], capture_output=True, check=True)
    try:
        again = roles_alone(inventory)
        after = subprocess.run(inspect, capture_output=True, text=True, check=True).stdout.split()
    finally:
        subprocess.run(["docker", "unpause", name], capture_output=True)
    assert again.returncode == 0, again.stdout[-4000:] + again.stderr
    assert after == [before, "false"]


def test_state_stopped_stops_the_containers_and_started_starts_the_same_ones_again(cluster, inventory):
    """dask_*_state stopped stops the running containers, recreating none; started starts those same ones."""
    names = [f"{CLUSTER}-scheduler", f"{CLUSTER}-worker"]
    inspect = ["docker", "inspect", "--format", "{{.Id}} {{.State.Running}}", *names]

    def states() -> list[list[str]]:
        return [line.split() for line in
                subprocess.run(inspect, capture_output=True, text=True, check=True).stdout.splitlines()]

    before = states()
    assert [running for _, running in before] == ["true", "true"]
    stopped = roles_alone(inventory, "-e", "dask_scheduler_state=stopped", "-e", "dask_worker_state=stopped")
    assert stopped.returncode == 0, stopped.stdout[-4000:] + stopped.stderr
    assert states() == [[container_id, "false"] for container_id, _ in before]
    started = roles_alone(inventory)
    assert started.returncode == 0, started.stdout[-4000:] + started.stderr
    assert states() == before


def test_state_absent_removes_what_the_roles_made(cluster, inventory):
    assert len(cluster_containers(CLUSTER)) == 3
    down = roles_alone(inventory, "-e", "dask_scheduler_state=absent", "-e", "dask_worker_state=absent")
    assert down.returncode == 0, down.stdout[-4000:] + down.stderr
    assert cluster_containers(CLUSTER) == []

