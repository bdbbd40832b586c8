"""Day two, over the lab's machines and real SSH: status.yml reports the cluster and names what is wrong with it;
logs.yml brings every container's log to the controller without the token; restart.yml and a changed worker
setting restart every worker process without losing a result; a changed scheduler setting is refused while the
scheduler holds results, and applied with dask_allow_restart.

Each test leaves the cluster as it found it (every expected worker joined, the inventory's settings).
"""
from __future__ import annotations

import json
import re
import subprocess

import pytest
from conftest import (CLUSTER, OUTPUT_DIR, SCHEDULER_HOSTS, WORKER_HOSTS, connection, expected_workers,  # noqa: F401
                      lab_host, wait_for_health)
from test_resilience import NETWORK, all_names, changed_total, client, container_ids, playbook, wait_for_names  # noqa: F401,E501

MACHINES = sorted(set(SCHEDULER_HOSTS + WORKER_HOSTS))


def flat(output: str) -> str:
    return " ".join(output.split())


def wait_until_healthy() -> None:
    for name in MACHINES:
        host = lab_host(name)
        for container in host.check_output("docker ps --filter label=io.github.adhoc.dask_cluster.cluster=%s "
                                           "--format '{{.Names}}'", CLUSTER).split():
            assert wait_for_health(host, container) == "healthy", container


def persist_on_every_worker(client, copies: int = 3) -> list:
    """Results held only by the workers: `copies` on each worker process, each 1 MiB and numbered."""
    from distributed import wait

    addresses = sorted(client.scheduler_info(n_workers=-1)["workers"])
    futures = [client.submit(lambda i: bytes(1 << 20) + i.to_bytes(4, "big"), i, workers=[address], pure=False)
               for i, address in enumerate(addresses * copies)]
    wait(futures)
    return futures


def assert_every_result_kept(client, futures: list) -> None:
    from distributed import wait

    # Pinned to workers that are gone, a lost result would wait for them forever: a bound turns that into a failure.
    wait(futures, timeout=60)
    assert all(f.status == "finished" for f in futures)
    results = client.gather(futures)
    assert [int.from_bytes(r[-4:], "big") for r in results] == list(range(len(futures)))


def worker_addresses(client) -> set[str]:
    return set(client.scheduler_info(n_workers=-1)["workers"])


def scheduler_container_id() -> str:
    return lab_host(SCHEDULER_HOSTS[0]).check_output("docker inspect --format '{{.Id}}' %s", f"{CLUSTER}-scheduler")


def test_status_reports_a_healthy_cluster_with_the_right_counts(client, all_names):
    wait_until_healthy()
    before = container_ids()
    rc, output = playbook("status.yml")
    assert rc == 0, output[-4000:]
    assert "Healthy: every container, worker and certificate is as expected." in output
    status = json.loads((OUTPUT_DIR / "status.json").read_text())
    assert status["healthy"] and status["problems"] == []
    assert status["scheduler"]["workers_joined"] == status["scheduler"]["workers_expected"] == len(all_names)
    assert {w["name"] for w in status["workers"]} == all_names
    expected = expected_workers()
    for worker in status["workers"]:
        machine = next(m for m, spec in expected.items() if worker["name"] in spec["names"])
        assert worker["nthreads"] == expected[machine]["nthreads"]
        if expected[machine]["memory_limit"]:
            assert worker["memory_limit"] == expected[machine]["memory_limit"]
        assert 0 < worker["memory"] < worker["memory_limit"]
    # Every container of the cluster on every machine, as Docker itself describes it.
    listed = {f"{machine}/{c['name']}": c for machine, m in status["machines"].items() for c in m["containers"]}
    assert sorted(listed) == sorted(before)
    for key, container in listed.items():
        machine, name = key.split("/")
        inspected = json.loads(lab_host(machine).check_output("docker inspect %s", name))[0]
        assert (container["state"], container["health"], container["restarts"], container["image_id"]) == (
            "running", "healthy", inspected["RestartCount"], inspected["Image"])
        assert container["started"] == inspected["State"]["StartedAt"]
    versions = client.get_versions()["scheduler"]["packages"]
    assert status["scheduler"]["versions"]["distributed"] == versions["distributed"]

    # Under --check it reads the same and changes nothing.
    rc, output = playbook("status.yml", "--check")
    assert rc == 0, output[-4000:]
    assert changed_total(output) == 0
    assert container_ids() == before


def test_status_names_a_stopped_worker_container_and_a_machine_that_does_not_answer(client, all_names, tmp_path):
    stopped, away = WORKER_HOSTS[0], WORKER_HOSTS[-1]
    address = subprocess.run(["docker", "inspect", "--format",
                              "{{(index .NetworkSettings.Networks \"%s\").IPAddress}}" % NETWORK, away],
                             capture_output=True, text=True, check=True).stdout.strip()
    lab_host(stopped).check_output("docker stop %s", f"{CLUSTER}-worker")
    subprocess.run(["docker", "network", "disconnect", NETWORK, away], check=True)
    try:
        # Fresh SSH connections: a multiplexed one opened before the cut would hang instead of failing.
        rc, output = playbook("status.yml", env={"ANSIBLE_SSH_CONTROL_PATH_DIR": str(tmp_path)})
    finally:
        subprocess.run(["docker", "network", "connect", "--ip", address, NETWORK, away], check=True)
        lab_host(stopped).check_output("docker start %s", f"{CLUSTER}-worker")
    text = flat(output)
    assert rc != 0, output[-4000:]
    assert f"The cluster '{CLUSTER}' is degraded" in text, output[-4000:]
    assert f"container {CLUSTER}-worker on {stopped} is exited" in text, output[-4000:]
    assert f"machine {away} does not answer" in text, output[-4000:]
    status = json.loads((OUTPUT_DIR / "status.json").read_text())
    assert not status["healthy"] and len(status["problems"]) == 3, status["problems"]  # the two, and the workers
    assert f"workers missing: {', '.join(expected_workers()[stopped]['names'])}" in status["problems"][-1]
    wait_for_names(client, all_names)


def test_logs_collects_every_containers_log_without_the_token(client):
    marker = "day-two-marker-" + str(sorted(worker_addresses(client))[0].rsplit(":", 1)[-1])
    token = (OUTPUT_DIR / "jupyter_token").read_text().strip()
    # A worker prints the marker, and the token too, as a careless notebook might.
    client.run(lambda m, t: print(m, "token", t, flush=True), marker, token)
    rc, output = playbook("logs.yml")
    assert rc == 0, output[-4000:]
    for machine in MACHINES:
        names = {key.split("/")[1] for key in container_ids() if key.startswith(machine + "/")}
        folder = OUTPUT_DIR / "logs" / machine
        assert {p.name for p in folder.iterdir()} == {f"{n}.log" for n in names}
        for name in names:
            text = (folder / f"{name}.log").read_text()
            # Its line count as reported.
            lines = text.count("\n")
            assert f"{name}: {lines} lines in {folder / name}.log" in flat(output)
            assert token not in text
            if name.endswith("-worker"):
                assert re.search(rf"{marker} token \[redacted\]", text), text[-2000:]


def test_logs_takes_the_last_lines_of_one_role(client):
    rc, output = playbook("logs.yml", "-e", '{"dask_logs_roles": ["scheduler"]}', "-e", "dask_logs_tail=5")
    assert rc == 0, output[-4000:]
    scheduler_logs = list((OUTPUT_DIR / "logs" / SCHEDULER_HOSTS[0]).iterdir())
    assert [p.name for p in scheduler_logs] == [f"{CLUSTER}-scheduler.log"]
    assert scheduler_logs[0].read_text().count("\n") == 5
    for machine in set(WORKER_HOSTS) - set(SCHEDULER_HOSTS):
        assert list((OUTPUT_DIR / "logs" / machine).iterdir()) == []


def test_restart_renews_every_worker_process_and_keeps_every_result(client, all_names):
    futures = persist_on_every_worker(client)
    before, scheduler = worker_addresses(client), scheduler_container_id()
    rc, output = playbook("restart.yml")
    assert rc == 0, output[-4000:]
    # Machine by machine: one play batch per worker machine.
    assert len(re.findall(r"PLAY \[Restart the workers one machine at a time", output)) == len(WORKER_HOSTS)
    wait_for_names(client, all_names, timeout=30)
    assert worker_addresses(client).isdisjoint(before)
    assert_every_result_kept(client, futures)
    assert scheduler_container_id() == scheduler


def test_a_changed_worker_setting_is_rolled_out_without_losing_a_result(client, all_names):
    futures = persist_on_every_worker(client)
    before, scheduler = worker_addresses(client), scheduler_container_id()
    changed = ["-e", '{"dask_worker_extra_args": ["--death-timeout", "3600"]}']
    try:
        rc, output = playbook("up.yml", *changed)
        assert rc == 0, output[-4000:]
        assert len(re.findall(r"PLAY \[Roll the workers", output)) == len(WORKER_HOSTS)
        for machine in WORKER_HOSTS:
            command = lab_host(machine).check_output("docker inspect --format '{{json .Config.Cmd}}' %s",
                                                     f"{CLUSTER}-worker")
            assert "--death-timeout" in json.loads(command)
        assert worker_addresses(client).isdisjoint(before)
        assert_every_result_kept(client, futures)
        assert scheduler_container_id() == scheduler
    finally:
        del futures
        rc, output = playbook("up.yml")
        assert rc == 0, output[-4000:]
    wait_for_names(client, all_names, timeout=30)


def test_a_changed_scheduler_setting_is_refused_while_results_are_held_and_applied_when_allowed(client, all_names):
    futures = persist_on_every_worker(client, copies=1)
    changed = ["-e", '{"dask_scheduler_extra_args": ["--pid-file", "/tmp/scheduler.pid"]}']
    before = container_ids()
    rc, output = playbook("up.yml", *changed)
    text = flat(output)
    assert rc != 0, output[-4000:]
    assert (f"This run would recreate the scheduler on {SCHEDULER_HOSTS[0]} for a change of the scheduler's "
            f"settings, but it holds {len(futures)} tasks ({len(futures)} memory)") in text, output[-4000:]
    assert "-e dask_allow_restart=true" in text
    assert container_ids() == before
    assert_every_result_kept(client, futures)
    try:
        rc, output = playbook("up.yml", *changed, "-e", '{"dask_allow_restart": true}')
        assert rc == 0, output[-4000:]
        assert "Restarted: the scheduler, for a change of the scheduler" in flat(output), output[-4000:]
        after = container_ids()
        assert after[f"{SCHEDULER_HOSTS[0]}/{CLUSTER}-scheduler"] != before[f"{SCHEDULER_HOSTS[0]}/{CLUSTER}-scheduler"]
        wait_for_names(client, all_names, timeout=60)
        assert all(f.status != "finished" for f in futures)  # lost with the scheduler, as the user allowed
    finally:
        del futures
        # An idle scheduler is recreated without the flag: back to the inventory's settings.
        rc, output = playbook("up.yml")
        assert rc == 0, output[-4000:]
    wait_for_names(client, all_names, timeout=60)
