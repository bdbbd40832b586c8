"""The scheduler machine: Dask's and Jupyter's ports (the dashboard, which has no login, off the network with
TLS), healthy containers, Jupyter behind its token and rooted in the notebook directory, and a notebook's
Client() joining the cluster with no arguments."""
import json
import socket
import ssl
import urllib.error
import urllib.parse
import urllib.request
import uuid

import pytest
from conftest import (CLUSTER, CLUSTER_DIR, OUTPUT_DIR, SCHEDULER_HOSTS, SETTINGS, TLS,
                      assert_secret_for_root_and_containers_only, expected_workers, wait_for_health)

testinfra_hosts = [f"ansible://{name}" for name in SCHEDULER_HOSTS]

# Where each port listens: every IPv4 address, but the dashboard on loopback only with TLS (the default).
DASHBOARD_ON_LOOPBACK = SETTINGS.get("dask_dashboard_address", "127.0.0.1" if TLS else "") == "127.0.0.1"
LISTENS_ON = {"dask_scheduler_port": "0.0.0.0", "dask_jupyter_port": "0.0.0.0",
              "dask_dashboard_port": "127.0.0.1" if DASHBOARD_ON_LOOPBACK else "0.0.0.0"}


@pytest.mark.parametrize("port_setting, address", LISTENS_ON.items(), ids=list(LISTENS_ON))
def test_port_is_listening_where_it_should(host, port_setting, address):
    # A bare tcp://PORT would demand an IPv6 socket too; the dashboard and Jupyter bind IPv4 only.
    port = SETTINGS[port_setting]
    assert host.socket(f"tcp://{address}:{port}").is_listening
    if address == "127.0.0.1":
        assert not host.socket(f"tcp://0.0.0.0:{port}").is_listening


def _connects(address: str, port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(5)
        return sock.connect_ex((address, port)) == 0


def test_dashboard_is_reached_from_the_network_only_when_bound_there(connection):
    """From the controller, a neighbour on the network: the scheduler's address answers on the scheduler port
    (so the address is right), and on the dashboard port only when the dashboard is not on loopback."""
    address = urllib.parse.urlsplit(connection["address"]).hostname
    assert _connects(address, SETTINGS["dask_scheduler_port"])
    assert _connects(address, SETTINGS["dask_dashboard_port"]) is not DASHBOARD_ON_LOOPBACK
    if not DASHBOARD_ON_LOOPBACK:  # the guide's <scheduler-ip>:8787, as the summary prints it
        assert connection["dashboard_link"] == f"http://{address}:{SETTINGS['dask_dashboard_port']}/status"
        health = connection["dashboard_link"].replace("/status", "/health")
        assert urllib.request.urlopen(health, timeout=10).read() == b"ok"


@pytest.mark.parametrize("role", ["scheduler", "jupyter"])
def test_container_is_running_and_healthy(host, role):
    container = host.docker(f"{CLUSTER}-{role}")
    assert container.is_running
    assert wait_for_health(host, container.name) == "healthy"


@pytest.mark.parametrize("role", ["scheduler", "jupyter"])
def test_container_restarts_by_itself(host, role):
    policy = host.docker(f"{CLUSTER}-{role}").inspect()["HostConfig"]["RestartPolicy"]["Name"]
    assert policy == "unless-stopped"


def _jupyter_status(connection: dict, token: str | None) -> int:
    url = connection["jupyter_url"].removesuffix("/lab") + "/api/contents"
    request = urllib.request.Request(url, headers={"Authorization": f"token {token}"} if token else {})
    # Over HTTPS, Jupyter's certificate is the machine's, signed by the cluster's CA.
    context = ssl.create_default_context(cafile=OUTPUT_DIR / "ca.pem") if url.startswith("https") else None
    if context:
        context.check_hostname = False
    try:
        return urllib.request.urlopen(request, timeout=10, context=context).status
    except urllib.error.HTTPError as exc:
        return exc.code


def test_jupyter_refuses_requests_without_the_token(connection):
    assert _jupyter_status(connection, None) == 403


def test_jupyter_accepts_the_generated_token(connection):
    token = (OUTPUT_DIR / "jupyter_token").read_text().strip()
    assert len(token) >= 32
    assert _jupyter_status(connection, token) == 200


def test_what_jupyter_saves_lands_in_the_notebook_directory(host, connection):
    """Jupyter's root is the mounted notebook directory: a file saved at the top of its file browser is on the
    machine, where it outlives the container."""
    token = (OUTPUT_DIR / "jupyter_token").read_text().strip()
    name = f"saved-{uuid.uuid4().hex}.txt"
    url = connection["jupyter_url"].removesuffix("/lab") + f"/api/contents/{name}"
    body = json.dumps({"type": "file", "format": "text", "content": "kept"}).encode()
    request = urllib.request.Request(url, data=body, method="PUT", headers={
        "Authorization": f"token {token}", "Content-Type": "application/json"})
    context = ssl.create_default_context(cafile=OUTPUT_DIR / "ca.pem") if url.startswith("https") else None
    if context:
        context.check_hostname = False
    assert urllib.request.urlopen(request, timeout=10, context=context).status == 201
    mounts = host.docker(f"{CLUSTER}-jupyter").inspect()["Mounts"]
    notebooks = next(m["Source"] for m in mounts if m["Destination"] == "/home/jovyan/work")
    try:
        assert host.file(f"{notebooks}/{name}").content_string == "kept"
    finally:
        host.run("rm -f %s", f"{notebooks}/{name}")


def test_notebook_client_joins_the_cluster_without_arguments(host):
    code = ("from distributed import Client; import json; c = Client(timeout=20); "
            "print(json.dumps(sorted(str(w['name']) for w in c.scheduler_info(n_workers=-1)['workers'].values())))")
    out = host.check_output("docker exec %s python -c %s", f"{CLUSTER}-jupyter", code)
    expected = sorted(n for spec in expected_workers().values() for n in spec["names"])
    assert json.loads(out.splitlines()[-1]) == expected


def test_the_jupyter_token_is_readable_by_root_and_jupyter_only(host):
    assert_secret_for_root_and_containers_only(host, f"{CLUSTER_DIR}/jupyter/token", [f"{CLUSTER}-jupyter"],
                                               "/dask-jupyter/token")
