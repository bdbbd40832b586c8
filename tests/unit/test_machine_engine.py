"""The machine program's Engine API jobs (plugins/plugin_utils/machine_program.py) against a stand-in engine on a
unix socket (DOCKER_HOST), which answers as Docker's does and records each call: what a teardown removes and in
which way, what a read keeps of other people's containers, and how a command's output is told apart."""
import json
import shutil
from pathlib import Path

import pytest
import standin_engine
from collection import plugin

program = plugin("plugin_utils", "machine_program")
CLUSTER, ROLE = "io.github.adhoc.dask_cluster.cluster", "io.github.adhoc.dask_cluster.role"


class Engine(standin_engine.Engine):
    """Answers each call with routes[(method, path)]; records every call as (method, path, query, its JSON body);
    a DELETE or POST to a container it does not list answers 404, as the engine does."""

    def __init__(self, path, routes):
        self.routes = routes
        super().__init__(path, Handler)


class Handler(standin_engine.Handler):
    def noted(self, body):
        return json.loads(body) if body else None

    def route(self, method, path, query):
        answer = self.server.routes.get((method, path))
        if answer is None and method in ("DELETE", "POST"):
            known = {c["Id"] for c in self.server.routes.get(("GET", "/containers/json"), [])}
            answer = (204, b"") if path.split("/")[2] in known else (404, {"message": "No such container"})
        status, payload = answer if isinstance(answer, tuple) else (200, answer)
        self.answer(status, payload)


engine = standin_engine.fixture(Engine)


def ours(name, role, state="running", cluster="dask"):
    return {"Id": f"id-{name}", "Names": [f"/{name}"], "State": state, "Labels": {CLUSTER: cluster, ROLE: role}}


def removal(root, roles, paths=(), check_mode=False):
    return {"cluster": "dask", "label_cluster": CLUSTER, "label_role": ROLE, "roles": roles, "root": str(root),
            "paths": [str(p) for p in paths], "graceful_roles": ["jupyter"], "stop_timeout": 7,
            "check_mode": check_mode}


def test_teardown_stops_jupyter_first_removes_the_others_at_once_and_then_the_clusters_files(tmp_path, engine):
    listed = [ours("dask-scheduler", "scheduler"), ours("dask-jupyter", "jupyter"),
              ours("dask-worker", "worker", state="exited")]
    server = engine({("GET", "/containers/json"): listed})
    root = tmp_path / "dask"
    (root / "worker-space" / "spill").mkdir(parents=True)
    (root / program.MARKER).touch()
    result = program.cluster_remove(removal(root, ["scheduler", "jupyter", "worker"], [root / "worker-space"]))
    assert result == {"changed": True, "retired": [], "removed": ["dask-worker", "dask-jupyter", "dask-scheduler"],
                      "removed_paths": [str(root / "worker-space")]}
    listing = server.calls[0]
    assert listing[:2] == ("GET", "/containers/json")
    assert json.loads(listing[2]["filters"]) == {"label": [f"{CLUSTER}=dask"]}
    # Only Jupyter is stopped (with the timeout) before it goes; every container is removed with force.
    assert [(m, p, q) for m, p, q, _ in server.calls if m == "POST"] == [
        ("POST", "/containers/id-dask-jupyter/stop", {"t": "7"})]
    assert sorted(p for m, p, q, _ in server.calls if m == "DELETE" and q == {"force": "true"}) == [
        "/containers/id-dask-jupyter", "/containers/id-dask-scheduler", "/containers/id-dask-worker"]
    assert not root.exists()  # nothing but the marker was left


def test_teardown_of_some_roles_leaves_the_rest_and_check_mode_only_lists(tmp_path, engine):
    listed = [ours("dask-scheduler", "scheduler"), ours("dask-worker", "worker")]
    server = engine({("GET", "/containers/json"): listed})
    root = tmp_path / "dask"
    (root / "notebooks").mkdir(parents=True)
    (root / program.MARKER).touch()
    assert program.cluster_remove(removal(root, ["worker"], [root / "worker-space"], check_mode=True)) == {
        "changed": True, "retired": [], "removed": ["dask-worker"], "removed_paths": []}
    assert [m for m, *_ in server.calls] == ["GET"]
    program.cluster_remove(removal(root, ["worker"]))
    assert [p for m, p, *_ in server.calls if m == "DELETE"] == ["/containers/id-dask-worker"]
    assert (root / "notebooks").is_dir()


def test_a_container_gone_since_the_listing_is_removed_already(tmp_path, engine):
    server = engine({("GET", "/containers/json"): [ours("dask-worker", "worker")],
                     ("DELETE", "/containers/id-dask-worker"): (404, {"message": "No such container"})})
    assert program.cluster_remove(removal(tmp_path / "dask", ["worker"]))["removed"] == ["dask-worker"]
    assert len(server.calls) == 2


def test_teardown_refuses_paths_outside_the_clusters_directory_before_removing_anything(tmp_path, engine):
    server = engine({("GET", "/containers/json"): [ours("dask-worker", "worker")]})
    (tmp_path / "home").mkdir()
    with pytest.raises(program.JobError, match="refusing to remove"):
        program.cluster_remove(removal(tmp_path / "dask", ["worker"], [tmp_path / "home"]))
    (tmp_path / "dask").mkdir()
    (tmp_path / "dask" / "thesis.tex").write_text("")
    with pytest.raises(program.JobError, match="was not made by this collection"):
        program.cluster_remove(removal(tmp_path / "dask", ["worker"], [tmp_path / "dask" / "worker-space"]))
    assert [m for m, *_ in server.calls] == ["GET", "GET"] and (tmp_path / "home").is_dir()


def frame(stream: int, data: bytes) -> bytes:
    return bytes([stream, 0, 0, 0]) + len(data).to_bytes(4, "big") + data


WORKERS = "io.github.adhoc.dask_cluster.workers"
RETIRE = {"argv": ["python", "-c", "retire"], "label_workers": WORKERS}


def worker_with_names(names, state="running"):
    container = ours("dask-worker", "worker", state=state)
    container["Labels"][WORKERS] = json.dumps(names)
    return container


def retirement(answer: bytes, exit_code=0):
    return {("POST", "/containers/id-dask-worker/exec"): (201, {"Id": "r1"}),
            ("POST", "/exec/r1/start"): frame(1, answer), ("GET", "/exec/r1/json"): {"ExitCode": exit_code}}


def test_leaving_workers_are_retired_in_their_container_before_it_is_removed(tmp_path, engine):
    server = engine({("GET", "/containers/json"): [worker_with_names(["lab1-0", "lab1-1"])],
                     **retirement(b'{"retired": ["lab1-1", "lab1-0"], "absent": []}\n')})
    result = program.cluster_remove(dict(removal(tmp_path / "dask", ["worker"]), retire=RETIRE))
    assert result["retired"] == ["lab1-0", "lab1-1"] and result["removed"] == ["dask-worker"]
    calls = [(m, p) for m, p, *_ in server.calls]
    assert calls.index(("POST", "/exec/r1/start")) < calls.index(("DELETE", "/containers/id-dask-worker"))
    exec_body = next(body for m, p, q, body in server.calls if p == "/containers/id-dask-worker/exec")
    assert exec_body["Cmd"] == ["python", "-c", "retire", "lab1-0", "lab1-1"]


def test_an_answer_printed_before_the_container_ended_counts(tmp_path, engine):
    engine({("GET", "/containers/json"): [worker_with_names(["lab1"])],
            **retirement(b'{"retired": ["lab1"], "absent": []}\n', exit_code=137)})
    assert program.cluster_remove(dict(removal(tmp_path / "dask", ["worker"]), retire=RETIRE))["retired"] == ["lab1"]


@pytest.mark.parametrize("answer, exit_code, reason", [
    (b'{"retired": [], "absent": ["lab1-1"]}\n', 0, "the scheduler does not know lab1-1"),
    (b'{"retired": ["lab1-0"], "absent": []}\n', 0, "the scheduler retired only lab1-0"),
    (b"OSError: Timed out trying to connect\n", 1, "the retirement could not run in container dask-worker: OSError"),
    (b'["not", "an", "answer"]\n', 0, "the retirement could not run in container dask-worker"),
])
def test_workers_not_all_retired_stop_the_removal_before_anything_goes(tmp_path, engine, answer, exit_code, reason):
    server = engine({("GET", "/containers/json"): [worker_with_names(["lab1-0", "lab1-1"])],
                     **retirement(answer, exit_code)})
    (tmp_path / "dask" / "worker-space").mkdir(parents=True)
    with pytest.raises(program.JobError) as failure:
        program.cluster_remove(dict(removal(tmp_path / "dask", ["worker"], [tmp_path / "dask" / "worker-space"]),
                                    retire=RETIRE))
    assert "its workers (lab1-0, lab1-1) were not retired" in str(failure.value) and reason in str(failure.value)
    assert not [m for m, *_ in server.calls if m == "DELETE"] and (tmp_path / "dask" / "worker-space").is_dir()


def test_a_stopped_worker_has_nothing_to_hand_on_and_goes_without_retirement(tmp_path, engine):
    server = engine({("GET", "/containers/json"): [worker_with_names(["lab1"], state="exited")]})
    result = program.cluster_remove(dict(removal(tmp_path / "dask", ["worker"]), retire=RETIRE))
    assert result["retired"] == [] and result["removed"] == ["dask-worker"]
    assert not [p for m, p, *_ in server.calls if "exec" in p]


def test_a_commands_output_is_split_into_stdout_and_stderr_with_its_exit_code(engine):
    stream = frame(1, b"2026.8.0\n") + frame(2, b"warn") + frame(1, b"done\n") + frame(2, b"ing\n")
    server = engine({("POST", "/containers/dask-scheduler/exec"): (201, {"Id": "e1"}),
                     ("POST", "/exec/e1/start"): stream, ("GET", "/exec/e1/json"): {"ExitCode": 3}})
    result = program.container_exec({"container": "dask-scheduler", "argv": ["dask", "--version"], "timeout": 5})
    assert result == {"changed": False, "rc": 3, "stdout": "2026.8.0\ndone\n", "stderr": "warning\n",
                      "stdout_lines": ["2026.8.0", "done"]}
    assert server.calls[0][3] == {"Cmd": ["dask", "--version"], "AttachStdout": True, "AttachStderr": True}


def test_a_logs_lines_are_put_back_together_when_the_engine_cuts_them_and_the_other_stream_comes_between(engine):
    # With timestamps the engine sends a long line in frames that each start with a timestamp, and another
    # stream's frame may come between them; here a secret is cut across two frames of one line.
    secret, t = b"s3cr3t", [b"2026-11-30T07:15:51.%dZ " % i for i in range(6)]
    stream = (frame(1, t[1] + b"x" * 10 + secret[:3]) + frame(2, t[2] + b"Traceback (most recent call last):\n")
              + frame(1, t[1] + secret[3:] + b" " + b"y" * 10 + b"\n") + frame(2, t[4] + b"ValueError: on")
              + frame(1, t[5] + b"the last line, unended"))
    engine({("GET", "/containers/json"): [ours("dask-worker", "worker")],
            ("GET", "/containers/id-dask-worker/logs"): stream})
    answer = program.container_logs({"cluster": "dask", "label_cluster": CLUSTER, "label_role": ROLE,
                                     "roles": ["worker"], "secrets": [secret.decode()]})
    try:
        [log] = answer["logs"]
        assert Path(log["path"]).read_bytes().splitlines() == [
            t[2] + b"Traceback (most recent call last):", t[1] + b"x" * 10 + b"[redacted] " + b"y" * 10,
            t[4] + b"ValueError: on", t[5] + b"the last line, unended"]
        assert log["lines"] == 4
        assert log["errors"] == [(t[2] + b"Traceback (most recent call last):").decode(),
                                 (t[4] + b"ValueError: on").decode()]
    finally:
        shutil.rmtree(answer["directory"])


def test_a_machine_read_keeps_only_the_collections_labels_and_the_fields_it_uses(tmp_path, engine):
    theirs = {"Id": "x", "Names": ["/db"], "Image": "postgres", "ImageID": "sha256:p", "State": "running",
              "Status": "Up", "Ports": [], "Command": "postgres -c password=hunter2",
              "Labels": {"com.example.secret": "s", CLUSTER: "dask"}}
    server = engine({("GET", "/info"): {"NCPU": 2, "MemTotal": 4 << 30, "ServerVersion": "27.0", "Runtimes": {},
                                        "Name": "lab0", "Swarm": {}},
                     ("GET", "/containers/json"): [theirs], ("GET", "/images/json"): [{"Id": "sha256:g"}]})
    found = program.machine_info({"image": "gds:1", "root": str(tmp_path / "dask")})
    assert found["host_info"] == {"NCPU": 2, "MemTotal": 4 << 30, "ServerVersion": "27.0", "Runtimes": {}}
    assert found["containers"] == [{"Id": "x", "Names": ["/db"], "Image": "postgres", "ImageID": "sha256:p",
                                    "State": "running", "Status": "Up", "Ports": [], "Labels": {CLUSTER: "dask"}}]
    assert found["images"] == [{"Id": "sha256:g"}] and found["root"]["ours"] is True
    images_query = [q for m, p, q, _ in server.calls if p == "/images/json"][0]
    assert json.loads(images_query["filters"]) == {"reference": ["gds:1"]}


def test_a_job_prints_one_json_object_and_a_failure_as_failed_with_its_message(tmp_path, engine, capsys, monkeypatch):
    engine({("GET", "/containers/json"): (500, {"message": "engine is shutting down"})})
    program.run("cluster_remove", removal(tmp_path / "dask", ["worker"]))
    assert json.loads(capsys.readouterr().out) == {
        "failed": True, "msg": "Docker refused GET /containers/json (HTTP 500): engine is shutting down"}
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path / 'nothing-here.sock'}")
    program.run("machine_info", {})
    answer = json.loads(capsys.readouterr().out)
    assert answer["failed"] and "Docker does not answer on" in answer["msg"]


def test_a_paused_worker_is_not_removed_and_a_restarting_one_has_nothing_to_hand_on(tmp_path, engine):
    server = engine({("GET", "/containers/json"): [worker_with_names(["lab1"], state="paused")]})
    with pytest.raises(program.JobError, match="container dask-worker is paused: unpause it"):
        program.cluster_remove(dict(removal(tmp_path / "dask", ["worker"]), retire=RETIRE))
    assert not [m for m, *_ in server.calls if m == "DELETE"]
    server.routes[("GET", "/containers/json")] = [worker_with_names(["lab1"], state="restarting")]
    assert program.cluster_remove(dict(removal(tmp_path / "dask", ["worker"]), retire=RETIRE))["retired"] == []


def test_the_keys_go_only_with_the_last_container_of_the_cluster_on_the_machine(tmp_path, engine):
    root = tmp_path / "dask"
    (root / "tls").mkdir(parents=True)
    (root / program.MARKER).touch()
    keys = dict(removal(root, ["scheduler", "jupyter"]), paths_when_alone=[str(root / "tls")])
    server = engine({("GET", "/containers/json"): [ours("dask-scheduler", "scheduler"),
                                                   ours("dask-worker", "worker")]})
    assert program.cluster_remove(keys)["removed_paths"] == [] and (root / "tls").is_dir()
    server.routes[("GET", "/containers/json")] = [ours("dask-scheduler", "scheduler")]
    assert program.cluster_remove(keys)["removed_paths"] == [str(root / "tls")] and not root.exists()
