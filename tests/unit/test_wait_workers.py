"""The module dask_wait_workers, run as Ansible runs a module (its file, with its arguments), against a stand-in for
the scheduler's dashboard on this machine: it waits until exactly the expected workers are listed, gives up after
its timeout without failing, and trusts the dashboard's HTTPS only with the cluster's CA."""
import json
import socket
import ssl
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import trustme
from collection import ROOT

MODULE = ROOT / "plugins" / "modules" / "dask_wait_workers.py"


class Dashboard(ThreadingHTTPServer):
    """Answers /json/identity.json with the worker names of `answers`, one list per request, the last one kept."""
    daemon_threads = True

    def __init__(self, answers):
        self.answers = list(answers)
        super().__init__(("127.0.0.1", 0), Identity)


class Identity(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def do_GET(self):
        names = self.server.answers.pop(0) if len(self.server.answers) > 1 else self.server.answers[0]
        body = json.dumps({"type": "Scheduler", "workers": {f"tls://127.0.0.1:{40000 + i}": {"name": name}
                                                            for i, name in enumerate(names)}}).encode()
        self.send_response(200 if self.path == "/json/identity.json" else 404)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture
def dashboard():
    servers = []

    def start(answers, certificate=None):
        server = Dashboard(answers)
        if certificate:
            context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            certificate.configure_cert(context)
            server.socket = context.wrap_socket(server.socket, server_side=True)
        threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
        servers.append(server)
        scheme = "https" if certificate else "http"
        return f"{scheme}://127.0.0.1:{server.server_address[1]}/json/identity.json"

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def wait(tmp_path, **arguments):
    (tmp_path / "args.json").write_text(json.dumps({"ANSIBLE_MODULE_ARGS": {"interval": 0.05, **arguments}}))
    ran = subprocess.run([sys.executable, str(MODULE), str(tmp_path / "args.json")], capture_output=True, text=True,
                         timeout=60, check=False)
    assert ran.returncode == 0, ran.stdout + ran.stderr
    return json.loads(ran.stdout)


def test_it_waits_until_exactly_the_expected_names_are_listed(tmp_path, dashboard):
    url = dashboard([[], ["lab1"], ["lab1", "lab2", "lab3"], ["lab2", "lab1"]])
    result = wait(tmp_path, url=url, names=["lab1", "lab2"], timeout=30)
    assert result["matched"] is True and result["changed"] is False
    assert sorted(w["name"] for w in result["json"]["workers"].values()) == ["lab1", "lab2"]
    assert result["msg"] == ""


def test_it_gives_up_after_its_timeout_with_the_last_answer_without_failing(tmp_path, dashboard):
    url = dashboard([["lab1"]])
    result = wait(tmp_path, url=url, names=["lab1", "lab2"], timeout=1)
    assert result["matched"] is False and "failed" not in result
    assert [w["name"] for w in result["json"]["workers"].values()] == ["lab1"]
    assert 1 <= result["seconds"] < 10


def test_a_dashboard_that_does_not_answer_leaves_the_error_and_no_answer(tmp_path):
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{unused.getsockname()[1]}/json/identity.json"
    result = wait(tmp_path, url=url, names=["lab1"], timeout=0)
    assert result["matched"] is False and "json" not in result
    assert result["msg"].startswith(f"{url}: ")


def test_the_dashboards_https_is_trusted_with_the_clusters_ca_only(tmp_path, dashboard):
    ca = trustme.CA()
    ca.cert_pem.write_to_path(str(tmp_path / "ca.pem"))
    url = dashboard([["lab1"]], certificate=ca.issue_cert("127.0.0.1"))
    assert wait(tmp_path, url=url, names=["lab1"], ca_path=str(tmp_path / "ca.pem"), timeout=10)["matched"] is True
    refused = wait(tmp_path, url=url, names=["lab1"], timeout=0)
    assert refused["matched"] is False and "json" not in refused
    assert "CERTIFICATE_VERIFY_FAILED" in refused["msg"]
