"""Mutual TLS as a neighbour on the network meets it: only holders of the cluster's certificates get in,
keys are private everywhere, the dashboard (no login) is reached only through the SSH tunnel the summary
prints and speaks HTTPS there, Jupyter speaks only HTTPS and wants its token, and the token shows only in the
summary."""
from __future__ import annotations

import contextlib
import json
import os
import re
import shlex
import socket
import ssl
import subprocess
import time
import urllib.error
import urllib.request
import warnings
from pathlib import Path

import pytest
import trustme
from conftest import (CLUSTER, CLUSTER_DIR, INVENTORY, LABEL_CLUSTER, OUTPUT_DIR, SCHEDULER_HOSTS, SETTINGS,
                      WORKER_HOSTS, assert_secret_for_root_and_containers_only, inventory_vars, lab_host)
from distributed import Client, Security

MOLECULE = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def connection():
    return json.loads((OUTPUT_DIR / "connection.json").read_text())


def refused(address: str, security: Security | None) -> bool:
    """True when no Client can be had within 5 s with these credentials."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            with Client(address, security=security, timeout=5):
                return False
        except (OSError, TimeoutError):
            return True


def tls_session_is_cut(address: str, context: ssl.SSLContext) -> bool:
    """True when the scheduler ends a TLS session made with this context before any Dask message passes.

    Dask's own Client will not even try TLS without a certificate, so speak TLS directly: with TLS 1.3 the
    server judges the client's certificate after the handshake and answers with an alert on the first read.
    """
    host, port = address.removeprefix("tls://").rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=5) as raw:
        with context.wrap_socket(raw) as tls:
            try:
                tls.sendall(b"\0" * 8)
                return tls.recv(1) == b""
            except (ssl.SSLError, ConnectionError):
                return True
            except TimeoutError:  # the scheduler waits for the rest of a Dask message: accepted
                return False


def client_context(cert: str | None = None, key: str | None = None) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=str(OUTPUT_DIR / "ca.pem"))
    context.check_hostname = False  # Dask names no host; the CA is what is checked
    if cert:
        context.load_cert_chain(cert, key)
    return context


def test_a_client_without_a_certificate_is_refused(connection):
    # It trusts the cluster's CA, so only the missing client certificate can stop it...
    assert tls_session_is_cut(connection["address"], client_context())
    # ...as the same session with the cluster's client certificate shows.
    assert not tls_session_is_cut(connection["address"], client_context(
        str(OUTPUT_DIR / "client-cert.pem"), str(OUTPUT_DIR / "client-key.pem")))


def bundle() -> Security:
    return Security(tls_ca_file=str(OUTPUT_DIR / "ca.pem"), tls_client_cert=str(OUTPUT_DIR / "client-cert.pem"),
                    tls_client_key=str(OUTPUT_DIR / "client-key.pem"), require_encryption=True)


def test_a_plain_tcp_client_is_refused(connection):
    assert refused(connection["address"].replace("tls://", "tcp://"), None)
    # The same address with the cluster's bundle connects: the refusal is the scheduler's, not the network's.
    assert not refused(connection["address"], bundle())


def test_a_client_with_a_certificate_of_another_ca_is_refused(connection, tmp_path):
    stranger = trustme.CA().issue_cert("dask-client")
    stranger.private_key_and_cert_chain_pem.write_to_path(str(tmp_path / "stranger.pem"))
    assert refused(connection["address"], Security(tls_ca_file=str(OUTPUT_DIR / "ca.pem"),
                                                   tls_client_cert=str(tmp_path / "stranger.pem"),
                                                   require_encryption=True))
    assert not refused(connection["address"], bundle())


@pytest.mark.parametrize("name", sorted(set(SCHEDULER_HOSTS + WORKER_HOSTS)))
def test_machine_keys_are_readable_by_root_and_the_cluster_containers_only(name):
    host = lab_host(name)
    containers = host.check_output("docker ps -q --filter label=%s=%s", LABEL_CLUSTER, CLUSTER).split()
    assert containers
    assert_secret_for_root_and_containers_only(host, f"{CLUSTER_DIR}/tls/key.pem", containers, "/dask-tls/key.pem")
    assert not host.file(f"{CLUSTER_DIR}/tls/ca-key.pem").exists  # the CA key stays home


@pytest.mark.parametrize("key", ["ca-key.pem", "client-key.pem"])
def test_controller_keys_are_private(key):
    assert (OUTPUT_DIR / key).stat().st_mode & 0o777 == 0o600


DASHBOARD_PORT = SETTINGS["dask_dashboard_port"]
SCHEDULER_VARS = inventory_vars(SCHEDULER_HOSTS[0])
TUNNEL = f"ssh -N -L {DASHBOARD_PORT}:127.0.0.1:{DASHBOARD_PORT} ansible@{SCHEDULER_VARS['ansible_host']}"


def test_connection_file_names_the_dashboard_on_loopback_and_its_tunnel(connection):
    assert connection["dashboard_link"] == f"https://127.0.0.1:{DASHBOARD_PORT}/status"
    assert connection["ssh_tunnel"] == TUNNEL


def test_dashboard_is_not_reachable_on_the_scheduler_address(connection):
    """A neighbour on the network (the controller, a worker machine) finds nothing on the dashboard port of the
    address where the scheduler port answers."""
    address = connection["address"].removeprefix("tls://").rsplit(":", 1)[0]
    probe = ("import socket, sys; s = socket.socket(); s.settimeout(5); "
             "print(s.connect_ex((sys.argv[1], int(sys.argv[2]))))")
    for port, expected in ((SETTINGS["dask_scheduler_port"], True), (DASHBOARD_PORT, False)):
        with socket.socket() as sock:
            sock.settimeout(5)
            assert (sock.connect_ex((address, port)) == 0) is expected, port
        neighbour = lab_host(WORKER_HOSTS[0]).check_output("python3 -c %s %s %s", probe, address, str(port))
        assert (neighbour == "0") is expected, (WORKER_HOSTS[0], port)


@pytest.fixture(scope="module")
def dashboard_through_tunnel(connection):
    """The tunnel connection.json and the summary name, as a user runs it (with the lab's key and host-key
    settings), to a free local port: the local base URL of the dashboard."""
    with socket.socket() as free:
        free.bind(("127.0.0.1", 0))
        local = free.getsockname()[1]
    argv = shlex.split(connection["ssh_tunnel"])
    argv[argv.index("-L") + 1] = f"{local}:127.0.0.1:{DASHBOARD_PORT}"
    argv[1:1] = ["-i", SCHEDULER_VARS["ansible_ssh_private_key_file"], "-o", "BatchMode=yes",
                 "-o", "ExitOnForwardFailure=yes", "-o", "StrictHostKeyChecking=no",
                 "-o", "UserKnownHostsFile=/dev/null", "-o", "LogLevel=ERROR"]
    tunnel = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 20
        while True:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", local), timeout=1):
                break
            assert tunnel.poll() is None, f"the tunnel exited: {tunnel.stderr.read()}"
            assert time.monotonic() < deadline, "the tunnel did not open within 20 s"
            time.sleep(0.2)
        yield f"https://127.0.0.1:{local}"
    finally:
        tunnel.terminate()
        tunnel.wait(timeout=10)


def test_dashboard_serves_https_signed_by_the_cluster_ca_through_the_tunnel(dashboard_through_tunnel):
    # The certificate names 127.0.0.1, so the host name is checked too.
    context = ssl.create_default_context(cafile=str(OUTPUT_DIR / "ca.pem"))
    assert urllib.request.urlopen(f"{dashboard_through_tunnel}/health", timeout=10, context=context).read() == b"ok"
    identity = json.load(urllib.request.urlopen(f"{dashboard_through_tunnel}/json/identity.json", timeout=10,
                                                context=context))
    assert identity["type"] == "Scheduler" and identity["workers"]


def _jupyter_api_status(url: str, context: ssl.SSLContext, token: str | None) -> int:
    request = urllib.request.Request(url, headers={"Authorization": f"token {token}"} if token else {})
    try:
        return urllib.request.urlopen(request, timeout=10, context=context).status
    except urllib.error.HTTPError as exc:
        return exc.code


def test_jupyter_serves_https_signed_by_the_cluster_ca_and_wants_its_token(connection):
    url = connection["jupyter_url"].removesuffix("/lab") + "/api/contents"
    assert url.startswith(f"https://{SCHEDULER_VARS['ansible_host']}:")
    # Only the cluster's CA is trusted, and the certificate must name the address the URL gives.
    context = ssl.create_default_context(cafile=str(OUTPUT_DIR / "ca.pem"))
    token = (OUTPUT_DIR / "jupyter_token").read_text().strip()
    assert _jupyter_api_status(url, context, token) == 200
    assert _jupyter_api_status(url, context, None) == 403
    assert _jupyter_api_status(url, context, "x" * len(token)) == 403
    # A client that trusts only the usual authorities does not accept the certificate: it is the cluster's own.
    with pytest.raises(urllib.error.URLError, match="CERTIFICATE_VERIFY_FAILED"):
        urllib.request.urlopen(url, timeout=10, context=ssl.create_default_context())


def test_jupyter_answers_no_plain_http(connection):
    """The token never travels in cleartext: a plain HTTP request to Jupyter's port gets no HTTP answer."""
    host, port = connection["jupyter_url"].removeprefix("https://").split("/", 1)[0].rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=10) as plain:
        plain.sendall(f"GET /api/contents HTTP/1.0\r\nHost: {host}\r\n\r\n".encode())
        try:
            answer = plain.recv(64)
        except (ConnectionError, TimeoutError):
            answer = b""
    assert not answer.startswith(b"HTTP/"), answer


@pytest.fixture(scope="module")
def rerun():
    result = subprocess.run(["ansible-playbook", "-v", "-i", INVENTORY, str(MOLECULE / "shared" / "converge.yml")],
                            capture_output=True, text=True, env=os.environ, timeout=600)
    # Without colours, which Molecule's environment turns on line by line.
    return result.returncode, re.sub(r"\x1b\[[0-9;]*m", "", result.stdout + result.stderr)


def test_rerun_changes_nothing_and_shows_the_token_only_in_the_summary(rerun):
    returncode, output = rerun
    token = (OUTPUT_DIR / "jupyter_token").read_text().strip()
    assert returncode == 0, output[-5000:]
    assert sum(int(n) for n in re.findall(r"changed=(\d+)", output)) == 0, output[-5000:]
    lines_with_token = [line for line in output.splitlines() if token in line]
    assert len(lines_with_token) == 1 and "Jupyter:" in lines_with_token[0], lines_with_token


def test_summary_says_how_to_open_the_dashboard_and_warns_of_nothing(rerun):
    _, output = rerun
    words = " ".join(output.split())  # the YAML result format folds long lines
    assert (f"Dashboard: https://127.0.0.1:{DASHBOARD_PORT}/status (loopback only: open the tunnel below first)"
            in words), output[-3000:]
    assert f"Tunnel: {TUNNEL}" in words, output[-3000:]
    assert "open to anyone on the network" not in words
    assert "Network: nothing answers without a certificate or the token" in words
