"""The scheduler machine: Dask's and Jupyter's ports, healthy containers, Jupyter behind its token, and a
notebook's Client() joining the cluster with no arguments."""
import json
import ssl
import urllib.error
import urllib.request

import pytest
from conftest import CLUSTER, OUTPUT_DIR, SCHEDULER_HOSTS, SETTINGS, expected_workers, wait_for_health

testinfra_hosts = [f"ansible://{name}" for name in SCHEDULER_HOSTS]


@pytest.mark.parametrize("port_setting", ["dask_scheduler_port", "dask_dashboard_port", "dask_jupyter_port"])
def test_port_is_listening_on_every_ipv4_address(host, port_setting):
    # A bare tcp://PORT would demand an IPv6 socket too; the dashboard and Jupyter bind IPv4 only.
    assert host.socket(f"tcp://0.0.0.0:{SETTINGS[port_setting]}").is_listening


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


def test_notebook_client_joins_the_cluster_without_arguments(host):
    code = ("from distributed import Client; import json; c = Client(timeout=20); "
            "print(json.dumps(sorted(str(w['name']) for w in c.scheduler_info(n_workers=-1)['workers'].values())))")
    out = host.check_output("docker exec %s python -c %s", f"{CLUSTER}-jupyter", code)
    expected = sorted(n for spec in expected_workers().values() for n in spec["names"])
    assert json.loads(out.splitlines()[-1]) == expected
