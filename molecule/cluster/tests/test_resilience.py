"""Resilience, over the lab's machines and real SSH: the cluster heals by itself after crashes and engine
restarts; a machine that does not answer does not stop the others and joins on the next run; a machine is
added and removed without touching the rest (its workers retired gracefully, their data kept); check mode
and --diff report without changing; a second cluster on the same machines goes down alone.

Each fault is injected for real and the time back to the full worker count is measured and printed (pytest
-s, or the report's captured output); the bounds asserted are generous multiples of what was measured here.
The tests restore the cluster they found, so their order matters only for speed.
"""
from __future__ import annotations

import json
import os
import re
import subprocess
import time
from pathlib import Path

import pytest
from conftest import (CLUSTER, INVENTORY, LABEL_CLUSTER, SCHEDULER_HOSTS, SETTINGS, WORKER_HOSTS,  # noqa: F401
                      connection, expected_workers, inventory_vars, lab_host, security)

ROOT = Path(__file__).resolve().parents[3]
NETWORK = "dask-lab-cluster"
HEAL_BOUND = 90  # seconds; measured here: see docs/playbooks.md


def playbook(name: str, *extra: str, env: dict | None = None) -> tuple[int, str]:
    result = subprocess.run(["ansible-playbook", "-i", INVENTORY, str(ROOT / "playbooks" / name), *extra],
                            capture_output=True, text=True, timeout=900,
                            env=os.environ | {"ANSIBLE_FORCE_COLOR": "0", "ANSIBLE_NOCOLOR": "1"} | (env or {}))
    return result.returncode, result.stdout + result.stderr


def changed_total(output: str) -> int:
    return sum(int(n) for n in re.findall(r"changed=(\d+)", output))


@pytest.fixture(scope="module")
def client(connection):
    from distributed import Client

    with Client(connection["address"], security=security(connection), timeout="30s") as c:
        yield c


@pytest.fixture(scope="module")
def all_names() -> set[str]:
    return {name for spec in expected_workers().values() for name in spec["names"]}


def worker_names(client) -> set[str]:
    return {str(w["name"]) for w in client.scheduler_info(n_workers=-1)["workers"].values()}


def wait_for_names(client, names: set[str], timeout: float = HEAL_BOUND) -> float:
    """Seconds until the scheduler counts exactly `names`; fails after timeout."""
    started = time.monotonic()
    while worker_names(client) != names:
        if time.monotonic() - started > timeout:
            pytest.fail(f"after {timeout}s the scheduler counts {sorted(worker_names(client))}, "
                        f"not {sorted(names)}")
        time.sleep(0.5)
    return time.monotonic() - started


def container_ids(but: str = "") -> dict[str, str]:
    """Every container of the cluster on every machine (but one), machine/name -> ID: to tell 'left alone'
    from 'recreated'."""
    ids = {}
    for name in sorted(set(SCHEDULER_HOSTS + WORKER_HOSTS) - {but}):
        out = lab_host(name).check_output("docker ps -a --filter label=%s=%s --format '{{.Names}} {{.ID}}'",
                                          LABEL_CLUSTER, CLUSTER)
        ids.update({f"{name}/{line.split()[0]}": line.split()[1] for line in out.splitlines()})
    return ids


def kill_main_process(host, container: str) -> None:
    """SIGKILL the container's main process from the machine: a crash to Docker, not a `docker stop`."""
    host.check_output("kill -9 $(docker inspect --format '{{.State.Pid}}' %s)", container)


def until_gone(client, names: set[str], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while worker_names(client) & names and time.monotonic() < deadline:
        time.sleep(0.2)


def report(what: str, seconds: float) -> None:
    print(f"\nRECOVERY {what}: full worker count back after {seconds:.1f} s")


def test_a_killed_worker_process_is_restarted_by_its_nanny(client, all_names):
    victim = next(iter(client.scheduler_info(n_workers=-1)["workers"]))
    name = str(client.scheduler_info(n_workers=-1)["workers"][victim]["name"])
    pid = client.run(os.getpid, workers=[victim])[victim]
    host = lab_host(WORKER_HOSTS[0] if name in expected_workers()[WORKER_HOSTS[0]]["names"] else WORKER_HOSTS[-1])
    host.check_output("docker exec %s python -c 'import os; os.kill(%s, 9)'", f"{CLUSTER}-worker", str(pid))
    until_gone(client, {name}, timeout=10)
    report("killed worker process", seconds := wait_for_names(client, all_names))
    assert seconds < HEAL_BOUND


@pytest.mark.parametrize("machine", [0, -1])
def test_a_crashed_worker_container_is_restarted(client, all_names, machine):
    host = lab_host(WORKER_HOSTS[machine])
    kill_main_process(host, f"{CLUSTER}-worker")
    until_gone(client, set(expected_workers()[WORKER_HOSTS[machine]]["names"]))
    report(f"crashed worker container on {WORKER_HOSTS[machine]}", seconds := wait_for_names(client, all_names))
    assert client.submit(sum, [1, 2, 3]).result(timeout=30) == 6


def test_a_crashed_scheduler_container_brings_every_worker_back(client, all_names):
    kill_main_process(lab_host(SCHEDULER_HOSTS[0]), f"{CLUSTER}-scheduler")
    time.sleep(1)  # the client reconnects by itself once the scheduler is back
    report("crashed scheduler container", seconds := wait_for_names(client, all_names, timeout=2 * HEAL_BOUND))
    assert client.submit(sum, [1, 2, 3]).result(timeout=30) == 6


def test_a_restarted_docker_engine_brings_its_worker_back(client, all_names):
    """The engine stops every container and starts the unless-stopped ones again (as after a reboot)."""
    host = lab_host(WORKER_HOSTS[-1])
    # Other containers there (the machine's owner's) have no restart policy: start them again afterwards.
    bystanders = set(host.check_output("docker ps --format '{{.Names}}'").split()) - {f"{CLUSTER}-worker"}
    # The engine comes back with the options it had (a machine's own, such as a runtime, included).
    command = host.check_output("tr '\\0' ' ' < /proc/$(cat /var/run/docker.pid)/cmdline").strip()
    assert command.startswith("dockerd "), command
    # dockerd removes its pid file once it has stopped every container and itself (it stays a zombie of the
    # lab's init, so pgrep would still see it).
    host.check_output("pkill -x dockerd; while [ -e /var/run/docker.pid ]; do sleep 0.2; done")
    until_gone(client, set(expected_workers()[WORKER_HOSTS[-1]]["names"]))
    started = time.monotonic()
    host.check_output(f"setsid {command} >>/var/log/dockerd.log 2>&1 < /dev/null &")
    wait_for_names(client, all_names)
    report("restarted Docker engine", seconds := time.monotonic() - started)
    assert seconds < HEAL_BOUND
    if bystanders:
        host.check_output("docker start " + " ".join(sorted(bystanders)))


def test_check_mode_on_a_healthy_cluster_reports_no_change():
    before = container_ids()
    rc, output = playbook("up.yml", "--check")
    assert rc == 0, output[-4000:]
    assert changed_total(output) == 0, output[-4000:]
    assert container_ids() == before


def test_diff_shows_what_a_setting_change_would_alter_and_alters_nothing():
    before = container_ids()
    rc, output = playbook("up.yml", "--check", "--diff", "-e", "dask_worker_memory_limit=900MiB")
    assert rc == 0, output[-4000:]
    assert re.search(r"^\+.*900MiB", output, re.M), output[-4000:]
    assert re.search(r"^-.*1GiB", output, re.M), output[-4000:]
    assert container_ids() == before


def gpu_inventory(tmp_path, machine: str) -> str:
    """An inventory source, beside the scenario's, that gives one machine all its GPUs."""
    path = tmp_path / f"gpus-{machine}.yml"
    path.write_text(f"all:\n  hosts:\n    {machine}:\n      dask_worker_gpus: all\n")
    return str(path)


def runtimes(machine: str) -> set[str]:
    return set(json.loads(lab_host(machine).check_output("docker info --format '{{json .Runtimes}}'")))


def test_gpus_reach_the_worker_container_spec_where_the_engine_has_the_nvidia_runtime(tmp_path):
    """The lab has no GPU: one machine's engine lists a runtime named nvidia (runc under that name), so check mode
    shows the worker container it would create with the GPU request, and changes nothing."""
    with_runtime = [machine for machine in WORKER_HOSTS if "nvidia" in runtimes(machine)]
    assert len(with_runtime) == 1, "the scenario gives one worker machine an nvidia runtime (LAB_DOCKERD_ARGS)"
    before = container_ids()
    rc, output = playbook("up.yml", "--check", "--diff", "-i", gpu_inventory(tmp_path, with_runtime[0]))
    assert rc == 0, output[-4000:]
    # community.docker's diff of the container, as YAML: the device request it would add.
    assert re.search(r"^\+\s+Driver: nvidia$", output, re.M), output[-4000:]
    assert re.search(r"^\+\s+Count: -1$", output, re.M), output[-4000:]
    assert re.search(r"changed: \[" + re.escape(with_runtime[0]) + r"\]", output), output[-4000:]
    assert container_ids() == before


def test_gpus_on_a_machine_without_the_nvidia_runtime_are_refused_before_anything_changes(tmp_path):
    without = [machine for machine in WORKER_HOSTS if "nvidia" not in runtimes(machine)]
    assert without
    before = container_ids()
    rc, output = playbook("up.yml", "-i", gpu_inventory(tmp_path, without[0]))
    assert rc != 0
    assert f"Host {without[0]}: dask_worker_gpus is set, but its Docker engine has no NVIDIA runtime" in \
        " ".join(output.split()), output[-4000:]
    assert "PLAY [Bring up the scheduler" not in output
    assert container_ids() == before


def test_removing_a_machine_retires_its_workers_and_keeps_their_data(client, all_names):
    from distributed import wait

    leaving = WORKER_HOSTS[-1]
    leaving_names = set(expected_workers()[leaving]["names"])
    addresses = {str(w["name"]): a for a, w in client.scheduler_info(n_workers=-1)["workers"].items()}
    # Results that live only on the leaving machine's workers.
    futures = [client.submit(lambda i: bytes(1 << 20) + bytes([i]), i, workers=[addresses[n]], pure=False)
               for i, n in enumerate(sorted(leaving_names) * 4)]
    wait(futures)
    stays = container_ids(but=leaving)
    rc, output = playbook("down.yml", "--limit", leaving)
    assert rc == 0, output[-4000:]
    # Retired, then ended with their container: the scheduler drops them as their connections close.
    wait_for_names(client, all_names - leaving_names, timeout=30)
    results = client.gather(futures)
    assert [r[-1] for r in results] == list(range(len(futures)))
    assert all(f.status == "finished" for f in futures)
    assert container_ids(but=leaving) == stays
    assert not [k for k in container_ids() if k.startswith(leaving)]

    # Adding it back (the inventory names it again): only its container is created.
    rc, output = playbook("up.yml")
    assert rc == 0, output[-4000:]
    wait_for_names(client, all_names, timeout=30)
    assert container_ids(but=leaving) == stays


def test_a_machine_whose_workers_cannot_be_retired_keeps_them_and_removes_nothing(client, all_names):
    """The retirement cannot run in the leaving machine's worker container (no such Python there): down.yml
    --limit fails for that machine, naming its workers and what to do, and leaves them running with their data."""
    leaving = WORKER_HOSTS[-1]
    names = ", ".join(sorted(expected_workers()[leaving]["names"]))
    before = container_ids()
    rc, output = playbook("down.yml", "--limit", leaving, "-e", "dask_healthcheck_python=/no/such/python")
    flat = " ".join(output.split())
    assert rc != 0, output[-4000:]
    assert f"fatal: [{leaving}]" in flat, output[-4000:]
    assert f"its workers ({names}) were not retired through the scheduler, so they keep running with their data " \
        "and nothing was removed: the retirement could not run in container " \
        f"{CLUSTER}-worker" in flat, output[-4000:]
    assert container_ids() == before
    assert worker_names(client) == all_names


def test_the_users_ssh_settings_trust_a_first_key_and_refuse_a_changed_one(client, all_names, tmp_path):
    """The checkout's ansible.cfg, as a user runs it with their own inventory (the scenario's own config opts out):
    a machine's first host key is remembered, and a changed one stops the run, naming it and what to do."""
    known_hosts = tmp_path / "known_hosts"
    known_hosts.touch()
    # Its own control sockets: a master connection the scenario opened would skip the host key check.
    user = os.environ | {"ANSIBLE_CONFIG": str(ROOT / "ansible.cfg"), "ANSIBLE_NOCOLOR": "1",
                         "ANSIBLE_SSH_CONTROL_PATH_DIR": str(tmp_path / "cp")}
    trusting = ("-e", f"ansible_ssh_common_args='-o UserKnownHostsFile={known_hosts}'")
    first = subprocess.run(["ansible", "-i", INVENTORY, "dask_scheduler:dask_workers", "-m", "ansible.builtin.ping",
                            *trusting], capture_output=True, text=True, env=user, timeout=300)
    assert first.returncode == 0, first.stdout + first.stderr
    addresses = {name: inventory_vars(name)["ansible_host"] for name in set(SCHEDULER_HOSTS + WORKER_HOSTS)}
    for address in addresses.values():  # the entries may be hashed: ask ssh-keygen
        assert subprocess.run(["ssh-keygen", "-F", address, "-f", str(known_hosts)],
                              capture_output=True).returncode == 0, address

    # Another key for one machine, as known_hosts would hold after that machine was replaced or impersonated.
    impostor = WORKER_HOSTS[0]
    subprocess.run(["ssh-keygen", "-R", addresses[impostor], "-f", str(known_hosts)], check=True,
                   capture_output=True)
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(tmp_path / "other")], check=True)
    other_key = " ".join((tmp_path / "other.pub").read_text().split()[:2])
    with known_hosts.open("a") as entries:
        entries.write(f"{addresses[impostor]} {other_key}\n")
    before = container_ids()
    # New control sockets again: the first run's master connections would carry this one past the key check.
    user["ANSIBLE_SSH_CONTROL_PATH_DIR"] = str(tmp_path / "cp-again")
    rc, output = playbook("up.yml", *trusting, env={k: v for k, v in user.items() if k.startswith("ANSIBLE_")})
    flat = " ".join(output.split())
    assert rc != 0, output[-4000:]
    assert (f"Host {impostor} ({addresses[impostor]}) answered with an SSH host key other than the one known_hosts "
            f"holds for it") in flat, output[-4000:]
    assert f"ssh-keygen -R {addresses[impostor]}" in flat
    assert container_ids() == before
    assert worker_names(client) == all_names


def test_an_inventory_without_become_is_refused_before_anything_changes(client, all_names):
    """The lab's SSH user is in the docker group with passwordless sudo, as many users' are: without
    ansible_become, every machine is refused, saying what to set, before anything is touched."""
    before = container_ids()
    rc, output = playbook("up.yml", "-e", "ansible_become=false")
    flat = " ".join(output.split())
    assert rc != 0, output[-4000:]
    for name in set(SCHEDULER_HOSTS + WORKER_HOSTS):
        assert (f"Host {name}: the collection reaches it as 'ansible', not as root" in flat
                and "Set ansible_become: true for this host" in flat), output[-4000:]
    assert "PLAY [Bring up the scheduler" not in output
    assert container_ids() == before
    assert worker_names(client) == all_names


def test_a_machine_that_does_not_answer_does_not_stop_the_others(client, all_names, tmp_path):
    away = WORKER_HOSTS[-1]
    away_names = set(expected_workers()[away]["names"])
    address = subprocess.run(["docker", "inspect", "--format",
                              "{{(index .NetworkSettings.Networks \"%s\").IPAddress}}" % NETWORK, away],
                             capture_output=True, text=True, check=True).stdout.strip()
    playbook("down.yml", "--limit", away)  # its workers are gone, as on a machine that was switched off
    stays = container_ids(but=away)
    # Fresh SSH connections: a multiplexed one opened before the cut would hang instead of failing.
    fresh = {"ANSIBLE_SSH_CONTROL_PATH_DIR": str(tmp_path)}
    subprocess.run(["docker", "network", "disconnect", NETWORK, away], check=True)
    try:
        rc, output = playbook("up.yml", env=fresh)
        flat = " ".join(output.split())
        assert rc != 0, output[-4000:]
        assert f"Not joined: {away} (did not answer)" in flat, output[-4000:]
        assert "must join (dask_min_workers)" in flat, output[-4000:]

        rc, output = playbook("up.yml", "-e", f"dask_min_workers={len(all_names - away_names)}", env=fresh)
        flat = " ".join(output.split())
        assert rc == 0, output[-4000:]
        assert f"Not joined: {away} (did not answer)" in flat, output[-4000:]
        assert worker_names(client) == all_names - away_names
        assert container_ids(but=away) == stays
    finally:
        subprocess.run(["docker", "network", "connect", "--ip", address, NETWORK, away], check=True)

    rc, output = playbook("up.yml", env=fresh)
    assert rc == 0, output[-4000:]
    assert "Not joined: none" in " ".join(output.split()), output[-4000:]
    wait_for_names(client, all_names, timeout=30)
    assert container_ids(but=away) == stays


def test_two_clusters_share_machines_and_one_goes_down_alone(client, all_names, tmp_path):
    # Ports as `-e key=value` gives them (strings); the boolean as JSON, as Ansible wants for non-strings.
    other = ["-e", "dask_cluster_name=second", "-e", "dask_scheduler_port=9786", "-e", "dask_dashboard_port=9787",
             "-e", "dask_worker_dashboard_port=9790", "-e", '{"dask_jupyter_enabled": false}',
             "-e", f"dask_cluster_output_dir={tmp_path}"]
    ours = container_ids()
    rc, output = playbook("up.yml", *other)
    assert rc == 0, output[-4000:]
    rc, output = playbook("down.yml", *other)
    assert rc == 0, output[-4000:]
    assert container_ids() == ours
    for name in sorted(set(SCHEDULER_HOSTS + WORKER_HOSTS)):
        assert lab_host(name).check_output("docker ps -a --filter label=%s=second -q", LABEL_CLUSTER) == ""
    assert worker_names(client) == all_names
    assert client.submit(sum, [4, 5]).result(timeout=30) == 9
