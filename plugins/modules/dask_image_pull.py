#!/usr/bin/python
"""Pull an image by tag or digest, recording its download progress in a file while it runs.

It speaks the Docker Engine HTTP API (public and documented) on the engine's unix socket with the standard
library, as plugin_utils/machine_program.py does. That program cannot serve here: the pull runs as an async
job, which Ansible starts only for a module, and a module carries module_utils only. community.docker's own
client lives in its private module_utils, which may change in any release.
"""
from __future__ import annotations

DOCUMENTATION = r"""
module: dask_image_pull
short_description: Pull a Docker image and record the pull's progress for the controller to show
description:
  - Pulls I(name) (a tag or a digest reference) through the Docker Engine API, as
    community.docker.docker_image_pull does, and keeps a small JSON summary of the download (layers, bytes
    done, bytes known) in I(progress_file) while it runs.
  - Its action plugin runs it in the background and prints that summary every few seconds, so that a
    multi-GB pull is not minutes of silence. Use the action (the task name is the same).
  - Registry credentials are those C(docker login) stored for the user the module runs as (C(become) applies)
    in C($DOCKER_CONFIG/config.json), else C(~/.docker/config.json) - its C(auths) entries, and the credential
    helpers it names in C(credHelpers) or C(credsStore) (C(docker-credential-<name>) on the machine's PATH).
version_added: 0.2.0
author: adhoc.dask_cluster contributors (!UNKNOWN)
options:
  name:
    description: Image reference to pull, C(repository:tag) or C(repository@sha256:...).
    type: str
    required: true
  pull:
    description: C(not_present) pulls only when the engine lacks I(name); C(always) asks the registry each time.
    type: str
    choices: [always, not_present]
    default: not_present
  tag_as:
    description:
      - Tag the image as this name once it is present (for a digest reference, so that containers can name it
        by the cluster's dask_image). Reports a change when the tag moves.
    type: str
  resolve:
    description:
      - Pull nothing; return in C(reference) the digest reference the cluster should run. That is the digest
        of the image the engine holds under I(name) when I(pull=not_present) and it holds one, else the
        registry's current digest for I(name). C(reference) is empty when the image held has no digest from
        a registry (built or loaded locally).
    type: bool
    default: false
  progress_file:
    description: Where to keep the progress summary on the target (written by the module, read by the action).
    type: path
  progress_interval:
    description: Seconds between progress lines (read by the action plugin).
    type: float
    default: 3
attributes:
  check_mode:
    support: full
    description: Reads the engine (and, with I(resolve), the registry); reports the pull or tag it would make.
notes:
  - Reaches the engine on its unix socket (C(DOCKER_HOST) when that names one, else C(/var/run/docker.sock)),
    as the collection's other reads of the machine do.
requirements:
  - Python 3 on the machine (standard library only)
  - Docker Engine API >= 1.30 (Docker 17.06)
"""

EXAMPLES = r"""
- name: Pull the cluster's image, showing progress
  adhoc.dask_cluster.dask_image_pull:
    name: darribas/gds_dev:10.0

- name: Choose the digest every machine pulls
  adhoc.dask_cluster.dask_image_pull:
    name: darribas/gds_dev:10.0
    resolve: true
  run_once: true
  register: chosen

- name: Pull that digest and name it by the tag
  adhoc.dask_cluster.dask_image_pull:
    name: "{{ chosen.reference }}"
    tag_as: darribas/gds_dev:10.0
"""

RETURN = r"""
reference:
  description: With I(resolve), C(repository@sha256:...) to pull everywhere, or empty (see I(resolve)).
  returned: when resolve
  type: str
image:
  description: The pulled image's inspection (C(Id), C(RepoDigests), C(RepoTags), ...); empty when absent.
  returned: always
  type: dict
"""

import base64  # noqa: E402
import http.client  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import pwd  # noqa: E402
import socket  # noqa: E402
import subprocess  # noqa: E402
import time  # noqa: E402
from urllib.parse import quote, urlencode  # noqa: E402

from ansible.module_utils.basic import AnsibleModule  # noqa: E402

DEFAULT_SOCKET = "/var/run/docker.sock"
# Docker Hub, as references and config.json name it: a reference without a registry host means this one,
# and `docker login` files its credentials under the old index URL.
INDEX_NAME = "docker.io"
INDEX_URL = "https://index.docker.io/v1/"
# A credential helper's user name when its secret is an identity token (docker-credential-helpers' convention).
TOKEN_USERNAME = "<token>"
TIMEOUT = 60  # seconds for an engine call that is not the pull itself
STATUS_DONE = ("Download complete", "Pull complete", "Already exists", "Verifying Checksum")


class EngineError(Exception):
    """A failure explained to the user, after "Pulling <name> failed: "."""


class UnixConnection(http.client.HTTPConnection):
    def __init__(self, path: str, timeout: float | None):
        super().__init__("localhost", timeout=timeout)
        self.socket_path = path

    def connect(self) -> None:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(self.timeout)
        self.sock.connect(self.socket_path)


def socket_path(environ=None) -> str:
    """The engine's socket: DOCKER_HOST when it names a unix socket, else the default."""
    host = (os.environ if environ is None else environ).get("DOCKER_HOST", "")
    if not host:
        return DEFAULT_SOCKET
    if host.startswith("unix://"):
        return host[len("unix://"):]
    raise EngineError(f"DOCKER_HOST is {host} on this machine; the collection reaches Docker on a unix socket "
                      "only: unset DOCKER_HOST for the Ansible user, or point it at unix:///var/run/docker.sock")


class Engine:
    """The few Engine API calls a pull needs. Paths carry no API version: the engine answers in its own."""

    def __init__(self, path: str):
        self.path = path

    def _send(self, method: str, path: str, query: dict | None, headers: dict | None, timeout: float | None):
        url = path + ("?" + urlencode(query) if query else "")
        connection = UnixConnection(self.path, timeout)
        try:
            connection.request(method, url, headers={"Host": "docker", **(headers or {})})
            return connection, connection.getresponse()
        except (OSError, http.client.HTTPException) as exc:
            connection.close()
            raise EngineError(f"Docker does not answer on {self.path} ({exc}): start the Docker engine on this "
                              "machine, and let the Ansible user (or become) use its socket") from exc

    @staticmethod
    def _refused(method: str, path: str, response, content: bytes) -> EngineError:
        try:
            message = json.loads(content.decode()).get("message", "")
        except ValueError:
            message = content.decode(errors="replace")
        return EngineError(f"Docker refused {method} {path} (HTTP {response.status}): {message.strip()}")

    def json(self, method: str, path: str, query: dict | None = None, headers: dict | None = None,
             missing_ok: bool = False):
        """The decoded body (None when empty, or on 404 with missing_ok)."""
        connection, response = self._send(method, path, query, headers, TIMEOUT)
        try:
            content = response.read()
        except (OSError, http.client.HTTPException) as exc:
            raise EngineError(f"Docker stopped answering {method} {path}: {exc}") from exc
        finally:
            connection.close()
        if response.status == 404 and missing_ok:
            return None
        if response.status >= 400:
            raise self._refused(method, path, response, content)
        return json.loads(content.decode()) if content.strip() else None

    def stream(self, method: str, path: str, query: dict | None = None, headers: dict | None = None):
        """The JSON messages of a progress stream (one a line), as they come; no time limit: a pull of many GB
        takes as long as the registry needs."""
        connection, response = self._send(method, path, query, headers, None)
        try:
            if response.status >= 400:
                raise self._refused(method, path, response, response.read())
            for line in response:
                if line.strip():
                    yield json.loads(line.decode())
        except (OSError, http.client.HTTPException, ValueError) as exc:
            raise EngineError(f"Docker stopped answering {method} {path}: {exc}") from exc
        finally:
            connection.close()

    def image(self, name: str) -> dict | None:
        return self.json("GET", f"/images/{quote(name, safe='/:@')}/json", missing_ok=True)


def parse_repository_tag(reference: str) -> tuple[str, str | None]:
    """(repository, tag or digest) as the docker CLI splits a reference; the tag is None when absent."""
    if "@" in reference:
        repository, digest = reference.rsplit("@", 1)
        return repository, digest
    repository, sep, tag = reference.rpartition(":")
    if sep and "/" not in tag:
        return repository, tag
    return reference, None


def registry_of(repository: str) -> str:
    """The registry host a repository lives on: its first component when that names a host (a dot, a port or
    localhost), else Docker Hub."""
    first, sep = repository.partition("/")[:2]
    if not sep or ("." not in first and ":" not in first and first != "localhost"):
        return INDEX_NAME
    return INDEX_NAME if first == "index.docker.io" else first


def hostname_of(key: str) -> str:
    """A config.json key (a host, or the URL older clients wrote) as the registry host it names."""
    host = key.replace("http://", "").replace("https://", "").split("/", 1)[0]
    return INDEX_NAME if host == "index.docker.io" else host


def config_file(environ=None) -> str:
    """Where `docker login` keeps this user's credentials: $DOCKER_CONFIG, else .docker in $HOME (as the docker
    CLI finds it), else in the user's home directory."""
    environ = os.environ if environ is None else environ
    home = environ.get("HOME") or pwd.getpwuid(os.geteuid()).pw_dir
    return os.path.join(environ.get("DOCKER_CONFIG") or os.path.join(home, ".docker"), "config.json")


def from_helper(helper: str, registry: str, runner=subprocess.run) -> dict | None:
    """A credential helper's answer for registry (None when it has none), in the Engine API's AuthConfig form."""
    server = INDEX_URL if registry == INDEX_NAME else registry
    program = f"docker-credential-{helper}"
    try:
        answered = runner([program, "get"], input=server.encode(), capture_output=True, timeout=TIMEOUT, check=False)
    except (OSError, subprocess.SubprocessError) as exc:
        raise EngineError(f"config.json names the credential helper {helper}, but {program} did not run "
                          f"({exc}): install it on this machine or remove it from config.json") from exc
    if answered.returncode != 0:
        said = (answered.stdout or answered.stderr).decode(errors="replace").strip()
        if "credentials not found" in said.lower():
            return None
        raise EngineError(f"{program} could not give the credentials for {server}: {said}")
    found = json.loads(answered.stdout.decode())
    if found.get("Username") == TOKEN_USERNAME:
        return {"ServerAddress": server, "IdentityToken": found.get("Secret", "")}
    return {"ServerAddress": server, "Username": found.get("Username", ""), "Password": found.get("Secret", "")}


def auth_config(registry: str, path: str, runner=subprocess.run) -> dict | None:
    """What `docker pull` would send for registry, read from the config.json at path (None: pull anonymously).
    A credential helper (credHelpers for this registry, else credsStore) is asked first; then `auths`."""
    try:
        with open(path, encoding="utf-8") as handle:
            config = json.load(handle)
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        raise EngineError(f"cannot read {path} ({exc}): fix it, or remove it to pull anonymously") from exc
    helpers = config.get("credHelpers") or {}
    helper = next((name for key, name in helpers.items() if hostname_of(key) == registry), None)
    helper = helper or config.get("credsStore")
    if helper:
        found = from_helper(helper, registry, runner)
        if found:
            return found
    for key, entry in (config.get("auths") or {}).items():
        if hostname_of(key) != registry or not isinstance(entry, dict):
            continue
        if entry.get("identitytoken"):
            return {"IdentityToken": entry["identitytoken"]}
        if entry.get("auth"):
            try:
                username, password = base64.b64decode(entry["auth"]).decode().split(":", 1)
            except ValueError as exc:
                raise EngineError(f"the auth of {key} in {path} is not base64 of user:password: log in "
                                  "again (docker login)") from exc
            return {"username": username, "password": password, "serveraddress": key}
    return None


def auth_header(registry: str, path: str) -> dict:
    """The X-Registry-Auth header for registry, or no header."""
    found = auth_config(registry, path)
    if not found:
        return {}
    return {"X-Registry-Auth": base64.urlsafe_b64encode(json.dumps(found).encode()).decode()}


class Progress:
    """A summary of the pull's stream (per layer: bytes done of bytes known), kept in a file the action reads."""

    def __init__(self, path: str | None):
        self.path = path
        self.layers: dict[str, dict] = {}
        self._written = 0.0

    def update(self, message: dict) -> None:
        if "id" not in message or message.get("status", "").startswith("Pulling from"):  # the tag's line
            return
        layer = self.layers.setdefault(message["id"], {"current": 0, "total": 0, "done": False})
        detail = message.get("progressDetail") or {}
        status = message.get("status", "")
        if status == "Downloading" and detail.get("total"):
            layer.update(current=detail.get("current", 0), total=detail["total"])
        elif status in STATUS_DONE:
            layer.update(current=layer["total"], done=True)

    def summary(self, **extra) -> dict:
        layers = self.layers.values()
        return {"layers": len(self.layers), "layers_done": sum(layer["done"] for layer in layers),
                "bytes_done": sum(layer["current"] for layer in layers),
                "bytes_known": sum(layer["total"] for layer in layers), **extra}

    def write(self, force: bool, **extra) -> None:
        now = time.monotonic()
        if not self.path or (not force and now - self._written < 0.5):
            return
        self._written = now
        partial = f"{self.path}.partial"
        with open(partial, "w") as handle:
            json.dump(self.summary(**extra), handle)
        os.replace(partial, self.path)  # the reader never sees half a file


def repo_digest(image: dict, repository: str) -> str:
    """The image's digest reference in repository (as RepoDigests spells it), or '' if it has none there."""
    for entry in image.get("RepoDigests") or []:
        if entry.rsplit("@", 1)[0] == repository:
            return entry
    return ""


def registry_digest(engine: Engine, reference: str, auth_file: str) -> str:
    """What the registry serves for reference now, as repository@sha256:..., asked through the engine."""
    repository = parse_repository_tag(reference)[0]
    descriptor = engine.json("GET", f"/distribution/{quote(reference, safe='/:@')}/json",
                             headers=auth_header(registry_of(repository), auth_file))
    return f"{repository}@{descriptor['Descriptor']['digest']}"


def pull(engine: Engine, reference: str, auth_file: str, progress: Progress) -> None:
    repository, tag = parse_repository_tag(reference)
    messages = engine.stream("POST", "/images/create", {"fromImage": repository, "tag": tag or "latest"},
                             headers=auth_header(registry_of(repository), auth_file))
    for message in messages:
        # An error after the stream started (a layer that failed, a registry that hung up) comes as a message.
        if message.get("error") or message.get("errorDetail"):
            raise EngineError((message.get("errorDetail") or {}).get("message") or message.get("error"))
        progress.update(message)
        progress.write(force=False)


def move_tag(engine: Engine, image: dict, name: str, check_mode: bool) -> bool:
    """Point name at image; True when the tag moved."""
    current = engine.image(name)
    if current and current["Id"] == image["Id"]:
        return False
    if not check_mode:
        repository, tag = parse_repository_tag(name)
        engine.json("POST", f"/images/{quote(image['Id'], safe=':')}/tag",
                    {"repo": repository, "tag": tag or "latest"})
    return True


def run(module: AnsibleModule) -> dict:
    params = module.params
    reference = params["name"]
    repository = parse_repository_tag(reference)[0]
    engine, auth_file = Engine(socket_path()), config_file()
    before = engine.image(reference)
    if params["resolve"]:
        if "@" in reference:
            found = reference
        elif before and params["pull"] == "not_present":
            found = repo_digest(before, repository)
        else:
            found = registry_digest(engine, reference, auth_file)
        return {"changed": False, "reference": found, "image": before or {}}
    changed, after, progress = False, before, Progress(params["progress_file"])
    if not before or params["pull"] == "always":
        if module.check_mode:
            return {"changed": True, "image": before or {}}
        pull(engine, reference, auth_file, progress)
        after = engine.image(reference)
        if not after:
            raise EngineError(f"the engine finished the pull but holds no image {reference}")
        changed = (before or {}).get("Id") != after["Id"]
    if params["tag_as"]:
        changed = move_tag(engine, after, params["tag_as"], module.check_mode) or changed
    progress.write(force=True, finished=True)
    return {"changed": changed, "image": after}


def main() -> None:
    module = AnsibleModule(
        argument_spec={
            "name": {"type": "str", "required": True},
            "pull": {"type": "str", "choices": ["always", "not_present"], "default": "not_present"},
            "tag_as": {"type": "str"},
            "resolve": {"type": "bool", "default": False},
            "progress_file": {"type": "path"},
            "progress_interval": {"type": "float", "default": 3},
        },
        supports_check_mode=True,
    )
    try:
        module.exit_json(**run(module))
    except EngineError as exc:
        module.fail_json(msg=f"Pulling {module.params['name']} failed: {exc}")


if __name__ == "__main__":
    main()
