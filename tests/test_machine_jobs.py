"""The machine program's day-two jobs (plugins/plugin_utils/machine_program.py) on this machine's real Docker
engine: a container's log streamed to a file with a secret replaced, cut by tail and since, given to the login
user under sudo; a restart of the cluster's containers found by label, and nothing else touched."""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from conftest import ROOT, STANDIN_IMAGE

sys.path.insert(0, str(ROOT / "tests" / "unit"))
from collection import plugin  # noqa: E402

program = plugin("plugin_utils", "machine_program")
LABEL_CLUSTER, LABEL_ROLE = "io.github.adhoc.dask_cluster.cluster", "io.github.adhoc.dask_cluster.role"
SECRET = "s3cr3t-" + uuid.uuid4().hex
# A long line (several of the engine's 16 KiB frames), lines on stderr, an error, and the secret twice in one line.
PRINTER = f"""
import sys, time
print("first line", flush=True)
print("x" * 70000, flush=True)
print("the secret {SECRET} and again {SECRET}", flush=True)
print("Traceback (most recent call last):", file=sys.stderr, flush=True)
print("ValueError: on stderr", file=sys.stderr, flush=True)
for i in range(20):
    print("line", i, flush=True)
time.sleep(3600)
"""


def docker(*args: str) -> str:
    return subprocess.run(["docker", *args], capture_output=True, text=True, check=True).stdout


@pytest.fixture(scope="module")
def cluster():
    """A cluster of one labelled 'worker' container that prints, and a container of another cluster beside it."""
    name = "jobs" + uuid.uuid4().hex[:8]
    started = {}
    for role_name, cluster_name in (("worker", name), ("other", name + "x")):
        started[role_name] = docker("run", "-d", "--name", f"{cluster_name}-{role_name}", "--label",
                                    f"{LABEL_CLUSTER}={cluster_name}", "--label", f"{LABEL_ROLE}=worker",
                                    "--entrypoint", "python", STANDIN_IMAGE, "-c", PRINTER).strip()
    # Until both streams are in the log: the engine writes stdout and stderr each in its own time.
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        logged = subprocess.run(["docker", "logs", started["worker"]], capture_output=True, text=True)
        if "line 19" in logged.stdout and "ValueError: on stderr" in logged.stderr:
            break
        time.sleep(0.5)
    yield name, started
    docker("rm", "-f", *started.values())


def whole(line: str) -> str:
    """A line as docker logs --timestamps prints it, with the timestamps of the pieces after the first taken out."""
    stamp, text = line.split(" ", 1)
    return stamp + " " + re.sub(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+Z ", "", text)


def params(name: str, **extra) -> dict:
    return {"cluster": name, "label_cluster": LABEL_CLUSTER, "label_role": LABEL_ROLE, "roles": ["worker"],
            "check_mode": False, **extra}


def test_a_log_is_streamed_to_a_file_with_the_secret_replaced(cluster, monkeypatch):
    name, started = cluster
    monkeypatch.delenv("SUDO_UID", raising=False)
    answer = program.container_logs(params(name, secrets=[SECRET]))
    try:
        [log] = answer["logs"]
        written = Path(log["path"]).read_text()
        expected = subprocess.run(["docker", "logs", "--timestamps", started["worker"]], capture_output=True,
                                  text=True, check=True)
        # Docker's own stdout and stderr (each line once: their order across the two streams is the engine's),
        # each line whole and with its first timestamp only (docker logs prints the timestamp of each of the
        # engine's pieces of a long line), secret replaced.
        assert sorted(written.splitlines()) == sorted(
            whole(line) for line in (expected.stdout + expected.stderr).replace(SECRET, "[redacted]").splitlines())
        assert SECRET not in written and "the secret [redacted] and again [redacted]" in written
        assert [line.split(" ", 1)[1] for line in written.splitlines() if len(line) > 70000] == ["x" * 70000]
        assert log["lines"] == written.count("\n") == 25
        assert [e.split(" ", 1)[1] for e in log["errors"]] == ["Traceback (most recent call last):",
                                                             "ValueError: on stderr"]
        assert log["container"] == f"{name}-worker" and log["role"] == "worker"
        assert Path(answer["directory"]).stat().st_mode & 0o777 == 0o700
    finally:
        subprocess.run(["rm", "-rf", answer["directory"]], check=True)


@pytest.mark.skipif(os.geteuid() != 0, reason="files are given to the login user only by root")
def test_tail_since_and_the_login_user_under_sudo(cluster, monkeypatch):
    name, _ = cluster
    monkeypatch.setenv("SUDO_UID", "1234")
    monkeypatch.setenv("SUDO_GID", "1235")
    tailed = program.container_logs(params(name, tail="3"))
    later = program.container_logs(params(name, since=str(int(time.time()) + 3600)))
    recent = program.container_logs(params(name, since="1h"))
    try:
        # The last three lines of the log as the engine keeps it (its order across stdout and stderr is its own).
        last = Path(recent["logs"][0]["path"]).read_text().splitlines()[-3:]
        assert Path(tailed["logs"][0]["path"]).read_text().splitlines() == last
        assert tailed["logs"][0]["lines"] == 3
        assert later["logs"][0]["lines"] == 0
        assert recent["logs"][0]["lines"] == 25
        for path in (tailed["directory"], tailed["logs"][0]["path"]):
            assert (os.stat(path).st_uid, os.stat(path).st_gid) == (1234, 1235)
        with pytest.raises(program.JobError, match="neither a Unix time nor a duration"):
            program.container_logs(params(name, since="yesterday"))
    finally:
        for answer in (tailed, later, recent):
            subprocess.run(["rm", "-rf", answer["directory"]], check=True)


def test_a_restart_restarts_the_clusters_containers_only(cluster):
    name, started = cluster

    def started_at(container: str) -> str:
        return json.loads(docker("inspect", container))[0]["State"]["StartedAt"]

    before = {role: started_at(c) for role, c in started.items()}
    would = program.cluster_restart(params(name, check_mode=True, stop_timeout=1))
    assert would["restarted"] == [f"{name}-worker"] and would["changed"]
    assert {role: started_at(c) for role, c in started.items()} == before
    done = program.cluster_restart(params(name, stop_timeout=1))
    assert done == {"changed": True, "retired": [], "rejoined": {}, "restarted": [f"{name}-worker"]}
    # A container stopped on purpose stays stopped.
    docker("stop", "-t", "1", started["worker"])
    assert program.cluster_restart(params(name, stop_timeout=1))["restarted"] == []
    assert json.loads(docker("inspect", started["worker"]))[0]["State"]["Running"] is False
    after = {role: started_at(c) for role, c in started.items()}
    assert after["worker"] != before["worker"] and after["other"] == before["other"]
