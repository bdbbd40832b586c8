"""plugins/modules/dask_image_pull.py without a Docker engine: how a reference is split and which registry it
names, which credentials `docker login` left for that registry, the progress summary, and whole runs (check mode,
resolve, a pull's stream, a tag) against a stand-in engine on a unix socket that answers as Docker's does. The
pulls themselves run for real in the Molecule scenario `offline`, against tools/lab_registry.py."""
from __future__ import annotations

import base64
import json
import os
import pwd
import subprocess
from pathlib import Path

import pytest
import standin_engine
from collection import plugin

pull = plugin("modules", "dask_image_pull")

DIGEST = "sha256:" + "ab" * 32


@pytest.mark.parametrize("reference, expected", [
    ("darribas/gds_dev:10.0", ("darribas/gds_dev", "10.0")),
    ("darribas/gds_dev", ("darribas/gds_dev", None)),
    (f"darribas/gds_dev@{DIGEST}", ("darribas/gds_dev", DIGEST)),
    ("lab:5000/team/gds:ci", ("lab:5000/team/gds", "ci")),
    ("lab:5000/team/gds", ("lab:5000/team/gds", None)),
    (f"lab:5000/team/gds@{DIGEST}", ("lab:5000/team/gds", DIGEST)),
])
def test_a_reference_splits_into_repository_and_tag_as_the_docker_cli_does(reference, expected):
    assert pull.parse_repository_tag(reference) == expected


@pytest.mark.parametrize("repository, registry", [
    ("ubuntu", "docker.io"),
    ("darribas/gds_dev", "docker.io"),
    ("docker.io/darribas/gds_dev", "docker.io"),
    ("index.docker.io/darribas/gds_dev", "docker.io"),
    ("ghcr.io/team/gds", "ghcr.io"),
    ("lab:5000/team/gds", "lab:5000"),
    ("localhost/gds", "localhost"),
])
def test_the_registry_is_the_first_component_only_when_it_names_a_host(repository, registry):
    assert pull.registry_of(repository) == registry


def write_config(tmp_path: Path, config: dict) -> str:
    path = tmp_path / "config.json"
    path.write_text(json.dumps(config))
    return str(path)


def basic(user: str, password: str) -> str:
    return base64.b64encode(f"{user}:{password}".encode()).decode()


def no_helper(*args, **kwargs):
    raise AssertionError("no credential helper may run for this config")


def test_docker_login_credentials_are_found_by_host_or_by_the_url_older_clients_wrote(tmp_path):
    path = write_config(tmp_path, {"auths": {
        "lab:5000": {"auth": basic("ci", "s3cret:with:colons")},
        "https://index.docker.io/v1/": {"auth": basic("hub", "pw")},
        "https://ghcr.io/": {"identitytoken": "tok"},
        "empty.example": {},
    }})
    assert pull.auth_config("lab:5000", path, no_helper) == {
        "username": "ci", "password": "s3cret:with:colons", "serveraddress": "lab:5000"}
    assert pull.auth_config("docker.io", path, no_helper)["username"] == "hub"
    assert pull.auth_config("ghcr.io", path, no_helper) == {"IdentityToken": "tok"}
    assert pull.auth_config("empty.example", path, no_helper) is None
    assert pull.auth_config("other:5000", path, no_helper) is None


def test_the_header_is_the_engines_auth_config_as_url_safe_base64_json(tmp_path):
    path = write_config(tmp_path, {"auths": {"lab:5000": {"auth": basic("ci", "pw")}}})
    header = pull.auth_header("lab:5000", path)["X-Registry-Auth"]
    assert json.loads(base64.urlsafe_b64decode(header)) == {
        "username": "ci", "password": "pw", "serveraddress": "lab:5000"}
    assert pull.auth_header("elsewhere:5000", path) == {}


def test_without_a_config_file_the_pull_is_anonymous(tmp_path):
    assert pull.auth_header("lab:5000", str(tmp_path / "config.json")) == {}


def test_a_config_file_that_is_not_json_is_named(tmp_path):
    (tmp_path / "config.json").write_text("{not json")
    with pytest.raises(pull.EngineError, match="config.json"):
        pull.auth_config("lab:5000", str(tmp_path / "config.json"))


def test_the_config_file_is_in_docker_config_else_in_home_as_the_docker_cli_finds_it():
    assert pull.config_file({"DOCKER_CONFIG": "/etc/ci-docker", "HOME": "/home/ci"}) == "/etc/ci-docker/config.json"
    assert pull.config_file({"HOME": "/home/ci"}) == "/home/ci/.docker/config.json"
    assert pull.config_file({}) == str(Path(pwd.getpwuid(os.geteuid()).pw_dir) / ".docker" / "config.json")


def helper_answering(answers: dict, calls: list):
    """A stand-in for subprocess.run that answers as docker-credential-<name> get does."""
    def run(argv, input, **kwargs):
        calls.append((argv[0], input.decode()))
        if input.decode() in answers.get(argv[0], {}):
            return subprocess.CompletedProcess(argv, 0, json.dumps(answers[argv[0]][input.decode()]).encode(), b"")
        return subprocess.CompletedProcess(argv, 1, b"credentials not found in native keychain\n", b"")
    return run


def test_a_credential_helper_is_asked_first_and_docker_hub_by_its_index_url(tmp_path):
    path = write_config(tmp_path, {"credsStore": "pass", "credHelpers": {"ghcr.io": "gh"},
                                   "auths": {"lab:5000": {"auth": basic("ci", "pw")}}})
    calls: list = []
    run = helper_answering({
        "docker-credential-pass": {pull.INDEX_URL: {"Username": "hub", "Secret": "pw"}},
        "docker-credential-gh": {"ghcr.io": {"Username": "<token>", "Secret": "tok"}},
    }, calls)
    assert pull.auth_config("docker.io", path, run) == {
        "ServerAddress": pull.INDEX_URL, "Username": "hub", "Password": "pw"}
    assert pull.auth_config("ghcr.io", path, run) == {"ServerAddress": "ghcr.io", "IdentityToken": "tok"}
    # The store has nothing for lab:5000: the auths entry `docker login` wrote before the store was set.
    assert pull.auth_config("lab:5000", path, run)["username"] == "ci"
    assert calls == [("docker-credential-pass", pull.INDEX_URL), ("docker-credential-gh", "ghcr.io"),
                     ("docker-credential-pass", "lab:5000")]


def test_a_helper_that_fails_otherwise_or_is_missing_is_named(tmp_path):
    path = write_config(tmp_path, {"credsStore": "pass"})

    def broken(argv, input, **kwargs):
        return subprocess.CompletedProcess(argv, 1, b"gpg: decryption failed\n", b"")

    with pytest.raises(pull.EngineError, match="docker-credential-pass could not give .*decryption failed"):
        pull.auth_config("lab:5000", path, broken)
    with pytest.raises(pull.EngineError, match="did not run"):
        pull.auth_config("lab:5000", write_config(tmp_path, {"credsStore": "no-such-helper-here"}))


@pytest.mark.parametrize("environ, expected", [
    ({}, "/var/run/docker.sock"),
    ({"DOCKER_HOST": "unix:///run/user/1000/docker.sock"}, "/run/user/1000/docker.sock"),
])
def test_the_engine_is_reached_on_its_unix_socket(environ, expected):
    assert pull.socket_path(environ) == expected


def test_an_engine_over_tcp_is_refused_with_what_to_change():
    with pytest.raises(pull.EngineError, match="unset DOCKER_HOST"):
        pull.socket_path({"DOCKER_HOST": "tcp://10.0.0.5:2375"})


# The messages of a pull of two layers, one already held, as the engine streams them.
STREAM = [
    {"status": "Pulling from team/gds", "id": "ci"},
    {"status": "Already exists", "id": "aaa"},
    {"status": "Pulling fs layer", "id": "bbb"},
    {"status": "Waiting", "id": "bbb"},
    {"status": "Downloading", "id": "bbb", "progressDetail": {"current": 1000, "total": 4000}},
    {"status": "Downloading", "id": "bbb", "progressDetail": {"current": 3000, "total": 4000}},
]


def test_progress_counts_layers_and_bytes_but_not_the_tags_line():
    progress = pull.Progress(None)
    for message in STREAM:
        progress.update(message)
    assert progress.summary() == {"layers": 2, "layers_done": 1, "bytes_done": 3000, "bytes_known": 4000}
    progress.update({"status": "Download complete", "id": "bbb"})
    progress.update({"status": "Extracting", "id": "bbb", "progressDetail": {"current": 10, "total": 4000}})
    progress.update({"status": "Digest: " + DIGEST})
    assert progress.summary() == {"layers": 2, "layers_done": 2, "bytes_done": 4000, "bytes_known": 4000}


def test_the_progress_file_is_replaced_whole_and_not_more_than_twice_a_second(tmp_path):
    target = tmp_path / "progress.json"
    progress = pull.Progress(str(target))
    progress.update(STREAM[4])
    progress.write(force=False)
    assert json.loads(target.read_text())["bytes_done"] == 1000
    progress.update(STREAM[5])
    progress.write(force=False)
    assert json.loads(target.read_text())["bytes_done"] == 1000
    progress.write(force=True, finished=True)
    assert json.loads(target.read_text()) == {"layers": 1, "layers_done": 0, "bytes_done": 3000,
                                              "bytes_known": 4000, "finished": True}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["progress.json"]


def test_the_digest_is_the_one_of_the_repository_asked_for():
    image = {"RepoDigests": [f"mirror:5000/team/gds@sha256:{'01' * 32}", f"team/gds@{DIGEST}"]}
    assert pull.repo_digest(image, "team/gds") == f"team/gds@{DIGEST}"
    assert pull.repo_digest(image, "lab:5000/team/gds") == ""
    assert pull.repo_digest({"RepoDigests": None}, "team/gds") == ""


class Engine(standin_engine.Engine):
    """Images by name (GET /images/<name>/json, 404 when absent), the registry's digest (/distribution/...), a
    pull that streams `stream` and then holds `pulled` under the name pulled, and tags; records every call as
    (method, path, query, X-Registry-Auth)."""

    def __init__(self, path, images, stream=(), pulled=None, status=200):
        self.images, self.stream, self.pulled, self.status = images, list(stream), pulled, status
        super().__init__(path, Handler)


class Handler(standin_engine.Handler):
    def noted(self, body):
        return self.headers.get("X-Registry-Auth")

    def route(self, method, path, query):
        engine = self.server
        if method == "GET" and path.startswith("/images/") and path.endswith("/json"):
            name = path[len("/images/"):-len("/json")]
            found = engine.images.get(name)
            return self.answer(200, found) if found else self.answer(404, {"message": f"No such image: {name}"})
        if method == "GET" and path.startswith("/distribution/"):
            return self.answer(200, {"Descriptor": {"digest": DIGEST}})
        if method == "POST" and path == "/images/create":
            if engine.status != 200:
                return self.answer(engine.status, {"message": "pull access denied for team/gds"})
            separator = "@" if query["tag"].startswith("sha256:") else ":"
            if engine.pulled:
                engine.images[f"{query['fromImage']}{separator}{query['tag']}"] = engine.pulled
            return self.stream(engine.stream)
        if method == "POST" and path.endswith("/tag"):
            return self.answer(201, {})
        return self.answer(404, {"message": "page not found"})


# Starts a stand-in engine and points DOCKER_HOST at it; DOCKER_CONFIG is an empty directory.
engine = standin_engine.fixture(Engine)


class Module:
    """What run() reads of an AnsibleModule."""

    def __init__(self, check_mode: bool, **params):
        self.check_mode = check_mode
        self.params = {"pull": "not_present", "tag_as": None, "resolve": False, "progress_file": None,
                       "progress_interval": 3, **params}


HELD = {"Id": "sha256:" + "11" * 32, "RepoDigests": [f"team/gds@{DIGEST}"]}


def test_check_mode_reports_a_missing_image_as_a_change_and_pulls_nothing(engine):
    server = engine({})
    assert pull.run(Module(True, name="team/gds:ci")) == {"changed": True, "image": {}}
    assert [call[:2] for call in server.calls] == [("GET", "/images/team/gds:ci/json")]


def test_check_mode_reports_a_tag_that_would_move_and_moves_nothing(engine):
    server = engine({"team/gds:ci": HELD, "team/gds:old": {"Id": "sha256:" + "22" * 32}})
    assert pull.run(Module(True, name="team/gds:ci", tag_as="team/gds:old")) == {"changed": True, "image": HELD}
    assert [method for method, *_ in server.calls] == ["GET", "GET"]


def test_a_tag_already_in_place_is_no_change(engine):
    server = engine({"team/gds:ci": HELD, "team/gds:latest": HELD})
    assert pull.run(Module(False, name="team/gds:ci", tag_as="team/gds:latest"))["changed"] is False
    assert [method for method, *_ in server.calls] == ["GET", "GET"]


def test_a_tag_is_moved_to_the_image_by_its_id(engine):
    server = engine({"team/gds:ci": HELD})
    assert pull.run(Module(False, name="team/gds:ci", tag_as="lab:5000/team/gds:ci"))["changed"] is True
    assert server.calls[-1][:3] == ("POST", f"/images/{HELD['Id']}/tag", {"repo": "lab:5000/team/gds", "tag": "ci"})


@pytest.mark.parametrize("held, pull_policy, expected", [
    ({"team/gds:ci": HELD}, "not_present", f"team/gds@{DIGEST}"),  # what the machine holds
    ({"team/gds:ci": {"Id": "sha256:" + "33" * 32, "RepoDigests": []}}, "not_present", ""),  # built here
    ({}, "not_present", f"team/gds@{DIGEST}"),  # the registry's
    ({"team/gds:ci": {"Id": "sha256:" + "33" * 32, "RepoDigests": []}}, "always", f"team/gds@{DIGEST}"),
])
def test_resolve_chooses_the_held_digest_unless_asked_to_ask_the_registry(engine, held, pull_policy, expected):
    server = engine(held)
    result = pull.run(Module(True, name="team/gds:ci", pull=pull_policy, resolve=True))
    assert (result["changed"], result["reference"]) == (False, expected)
    asked = [path for _, path, *_ in server.calls if path.startswith("/distribution/")]
    assert asked == ([] if held and pull_policy == "not_present" else ["/distribution/team/gds:ci/json"])


def test_resolve_of_a_digest_reference_is_that_reference(engine):
    engine({})
    assert pull.run(Module(False, name=f"team/gds@{DIGEST}", resolve=True))["reference"] == f"team/gds@{DIGEST}"


def test_a_pull_asks_for_the_tag_with_the_credentials_and_leaves_its_summary_finished(engine, tmp_path):
    (tmp_path / "config.json").write_text(json.dumps({"auths": {"lab:5000": {"auth": basic("ci", "pw")}}}))
    stream = [{"status": "Pulling from team/gds", "id": "ci"}, *STREAM[1:], {"status": "Pull complete", "id": "bbb"},
              {"status": f"Digest: {DIGEST}"}, {"status": "Status: Downloaded newer image for lab:5000/team/gds:ci"}]
    server = engine({}, stream=stream, pulled=HELD)
    progress_file = tmp_path / "progress.json"
    result = pull.run(Module(False, name="lab:5000/team/gds:ci", progress_file=str(progress_file)))
    assert result == {"changed": True, "image": HELD}
    method, path, query, auth = server.calls[1]
    assert (method, path, query) == ("POST", "/images/create", {"fromImage": "lab:5000/team/gds", "tag": "ci"})
    assert json.loads(base64.urlsafe_b64decode(auth))["username"] == "ci"
    assert json.loads(progress_file.read_text()) == {"layers": 2, "layers_done": 2, "bytes_done": 4000,
                                                     "bytes_known": 4000, "finished": True}


def test_a_digest_is_pulled_by_it_and_an_image_held_is_not_pulled_again(engine):
    server = engine({}, pulled=HELD)
    assert pull.run(Module(False, name=f"team/gds@{DIGEST}"))["changed"] is True
    assert server.calls[1][:3] == ("POST", "/images/create", {"fromImage": "team/gds", "tag": DIGEST})
    assert pull.run(Module(False, name=f"team/gds@{DIGEST}")) == {"changed": False, "image": HELD}
    assert [method for method, *_ in server.calls[3:]] == ["GET"]


def test_an_error_in_the_stream_fails_the_pull_with_the_registrys_words(engine):
    engine({}, stream=[{"status": "Pulling from team/gds", "id": "ci"},
                       {"errorDetail": {"message": "unauthorized: authentication required"},
                        "error": "unauthorized: authentication required"}])
    with pytest.raises(pull.EngineError, match="^unauthorized: authentication required$"):
        pull.run(Module(False, name="team/gds:ci"))


def test_a_refused_pull_names_the_call_and_the_engines_message(engine):
    engine({}, status=404)
    with pytest.raises(pull.EngineError, match=r"Docker refused POST /images/create \(HTTP 404\): pull access denied"):
        pull.run(Module(False, name="team/gds:ci"))


def test_an_engine_that_does_not_answer_is_named_with_what_to_do(tmp_path, monkeypatch):
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path / 'no.sock'}")
    with pytest.raises(pull.EngineError, match="Docker does not answer on .*no.sock .*start the Docker engine"):
        pull.run(Module(False, name="team/gds:ci"))
