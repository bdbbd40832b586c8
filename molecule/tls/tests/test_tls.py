"""Mutual TLS as a neighbour on the network meets it: only holders of the cluster's certificates get in,
keys are private everywhere, the dashboard speaks HTTPS, and the Jupyter token shows only in the summary."""
from __future__ import annotations

import json
import os
import re
import socket
import ssl
import subprocess
import urllib.request
import warnings
from pathlib import Path

import pytest
import trustme
from conftest import INVENTORY, OUTPUT_DIR, SCHEDULER_HOSTS, WORKER_HOSTS, lab_host
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


def test_a_plain_tcp_client_is_refused(connection):
    assert refused(connection["address"].replace("tls://", "tcp://"), None)


def test_a_client_with_a_certificate_of_another_ca_is_refused(connection, tmp_path):
    stranger = trustme.CA().issue_cert("dask-client")
    stranger.private_key_and_cert_chain_pem.write_to_path(str(tmp_path / "stranger.pem"))
    assert refused(connection["address"], Security(tls_ca_file=str(OUTPUT_DIR / "ca.pem"),
                                                   tls_client_cert=str(tmp_path / "stranger.pem"),
                                                   require_encryption=True))


@pytest.mark.parametrize("name", sorted(set(SCHEDULER_HOSTS + WORKER_HOSTS)))
def test_machine_keys_are_readable_by_the_container_user_only(name):
    host = lab_host(name)
    tls_dir = host.file("/var/lib/dask_cluster/dask/tls")
    assert (tls_dir.uid, tls_dir.gid, tls_dir.mode) == (1000, 100, 0o500)
    key = host.file("/var/lib/dask_cluster/dask/tls/key.pem")
    assert (key.uid, key.gid, key.mode) == (1000, 100, 0o400)
    assert not host.file("/var/lib/dask_cluster/dask/tls/ca-key.pem").exists  # the CA key stays home


@pytest.mark.parametrize("key", ["ca-key.pem", "client-key.pem"])
def test_controller_keys_are_private(key):
    assert (OUTPUT_DIR / key).stat().st_mode & 0o777 == 0o600


def test_dashboard_serves_https_signed_by_the_cluster_ca(connection):
    context = ssl.create_default_context(cafile=str(OUTPUT_DIR / "ca.pem"))
    url = connection["dashboard_link"].replace("/status", "/health")
    assert url.startswith("https://")
    assert urllib.request.urlopen(url, timeout=10, context=context).read() == b"ok"


def test_jupyter_serves_https(connection):
    assert connection["jupyter_url"].startswith("https://")


def test_rerun_changes_nothing_and_shows_the_token_only_in_the_summary():
    token = (OUTPUT_DIR / "jupyter_token").read_text().strip()
    result = subprocess.run(["ansible-playbook", "-v", "-i", INVENTORY, str(MOLECULE / "shared" / "converge.yml")],
                            capture_output=True, text=True, env=os.environ, timeout=600)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-5000:]
    assert sum(int(n) for n in re.findall(r"changed=(\d+)", output)) == 0, output[-5000:]
    lines_with_token = [line for line in output.splitlines() if token in line]
    assert len(lines_with_token) == 1 and "Jupyter:" in lines_with_token[0], lines_with_token
