"""A stand-in Docker engine for the unit tests: an HTTP server on a unix socket in the test's directory, which
DOCKER_HOST points at, that records every call and answers as Docker's does (JSON, bytes as they are, or a pull's
chunked stream of JSON messages). A test file says what its engine holds with a subclass of Engine, and what it
answers with a subclass of Handler (route, and noted for what a call records besides method, path and query);
fixture() makes the pytest fixture that starts it."""
from __future__ import annotations

import json
import socketserver
import threading
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qs, unquote, urlparse

import pytest


class Engine(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    """Serves handler on the socket at path; calls holds every call as (method, path, query, handler's note)."""
    daemon_threads = True

    def __init__(self, path: str, handler: type[Handler]):
        self.calls, self.lock = [], threading.Lock()
        super().__init__(path, handler)


class Handler(BaseHTTPRequestHandler):
    """Records a call, then answers it with route(method, path, query): the path unquoted, as the engine routes
    it, and the query as one value a name."""
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def route(self, method: str, path: str, query: dict) -> None:
        raise NotImplementedError

    def noted(self, body: bytes):
        """What the call records besides its method, path and query; body is the request's, as it came."""
        return None

    def answer(self, status: int, body) -> None:
        """body as JSON, or bytes as they are (a command's raw stream, or nothing)."""
        if isinstance(body, bytes):
            data, headers = body, {}
        else:
            data, headers = json.dumps(body).encode(), {"Content-Type": "application/json"}
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def stream(self, messages) -> None:
        """As the engine streams a pull: chunked, one JSON message and CRLF a chunk."""
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        for message in messages:
            chunk = json.dumps(message).encode() + b"\r\n"
            self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
        self.wfile.write(b"0\r\n\r\n")

    def _handle(self, method: str) -> None:
        url = urlparse(self.path)
        path, query = unquote(url.path), {k: v[0] for k, v in parse_qs(url.query).items()}
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        with self.server.lock:
            self.server.calls.append((method, path, query, self.noted(body)))
        self.route(method, path, query)

    def do_GET(self):
        self._handle("GET")

    def do_POST(self):
        self._handle("POST")

    def do_DELETE(self):
        self._handle("DELETE")


def fixture(engine_class: type[Engine]):
    """The pytest fixture `engine` for a test file (engine = standin_engine.fixture(ItsEngine)): it gives
    start(*args, **kwargs), which starts engine_class(socket, *args, **kwargs) on a socket in the test's
    directory, points DOCKER_HOST at it and returns it. DOCKER_CONFIG is the test's directory, so that no
    credentials of the user running the tests are read. Every engine started stops when the test ends."""

    @pytest.fixture
    def engine(tmp_path, monkeypatch):
        servers = []
        monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path))

        def start(*args, **kwargs):
            path = str(tmp_path / "docker.sock")
            server = engine_class(path, *args, **kwargs)
            threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
            servers.append(server)
            monkeypatch.setenv("DOCKER_HOST", f"unix://{path}")
            return server

        yield start
        for server in servers:
            server.shutdown()
            server.server_close()

    return engine
