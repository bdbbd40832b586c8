#!/usr/bin/env python3
"""Benchmark (issue 6): bringing a cluster up and down on N lab machines, against doing it by hand.

For each N (machine 0 runs the scheduler, the other N-1 one worker each), on fresh lab machines that already
hold the image, medians of --reps, all in the same run:
  (a) guide:      the guide's method scripted: one `ssh HOST docker run ... dask ...` per machine, all in
                  parallel, until the scheduler counts every worker;
  (b) sshcluster: distributed.SSHCluster, the same image through `docker run` as its remote_python, until
                  Client.wait_for_workers returns;
  (c) up cold:    playbooks/up.yml from no containers to all workers registered (it verifies that itself);
  (d) up re-run:  playbooks/up.yml again once the cluster is healthy (every container's healthcheck passes);
  (e) down:       playbooks/down.yml, against (e0) the same teardown by hand: the same cluster (up.yml's, brought
                  up again for it) removed by parallel `ssh HOST docker rm -f` of its labelled containers.
  (f) floor:      bench/floor.yml, ansible-playbook's least cost: its start and one `raw` round trip per machine.
  (g) minimal:    bench/minimal.yml, the issue's minimal three-play playbook (scheduler, workers, wait; through
                  community.docker, no checks), cold and re-run: the least the collection's shape costs.
up.yml runs with the collection's defaults (TLS on, JupyterLab on) except the image; --plain adds a row set
with TLS and Jupyter off, closer to what (a) and (b) do.

Also measured at the largest N: the controller's peak memory during up.yml (the whole ansible-playbook
process tree, sampled), and what each machine's containers use against the Dask processes inside them.

Writes bench/results/up_down.md and bench/results/up_down.png (time against N).
    .venv/bin/python bench/up_down.py --sizes 3 8 --reps 3
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import lab

ROOT = lab.ROOT
IMAGE = "adhoc-test/gds-standin:ci"
RESULTS = Path(__file__).resolve().parent / "results"
ANSIBLE_PLAYBOOK = str(Path(sys.executable).parent / "ansible-playbook")


def ssh_all(n: int, command) -> None:
    """command(i) on every machine at once, over plain ssh."""
    with ThreadPoolExecutor(max_workers=n) as pool:
        list(pool.map(lambda i: lab.ssh(i, command(i), capture_output=True), range(n)))


def wait_for_workers(address: str, count: int, timeout: float = 300) -> None:
    """Until the scheduler's /json/identity.json lists `count` workers (plain HTTP dashboard)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://{address}:8787/json/identity.json", timeout=2) as response:
                if len(json.load(response).get("workers", {})) == count:
                    return
        except OSError:
            pass
        time.sleep(0.05)
    raise TimeoutError(f"{count} workers did not register at {address}")


def guide_up(n: int) -> float:
    scheduler = lab.address(0)
    run = "sudo docker run -d --network host --name guide-{role} " + IMAGE + " start.sh dask {role} {args}"
    started = time.monotonic()
    ssh_all(n, lambda i: run.format(role="scheduler", args="") if i == 0
            else run.format(role="worker", args=f"tcp://{scheduler}:8786 --name guide-{i}"))
    wait_for_workers(scheduler, n - 1)
    return time.monotonic() - started


def guide_down(n: int) -> float:
    started = time.monotonic()
    ssh_all(n, lambda i: "sudo docker rm -f guide-scheduler guide-worker >/dev/null 2>&1 || true")
    return time.monotonic() - started


def wait_until_healthy(n: int, timeout: float = 120) -> None:
    """Until every container of the cluster on every machine passes its healthcheck: the issue's re-run is of a
    healthy cluster, not of one whose containers are still starting."""
    check = ("sudo docker ps --filter label=io.github.adhoc.dask_cluster.cluster=dask --format '{{.Status}}' "
             "| grep -v '(healthy)' || true")
    deadline = time.monotonic() + timeout
    while any(lab.ssh(i, check, capture_output=True).stdout.strip() for i in range(n)):
        if time.monotonic() > deadline:
            raise TimeoutError("the cluster's containers did not all become healthy")
        time.sleep(1)


def minimal_up(n: int, inventory: Path) -> tuple[float, float]:
    """bench/minimal.yml cold, then again on its running cluster; its containers removed after."""
    cold, _ = playbook("minimal.yml", inventory)
    rerun, _ = playbook("minimal.yml", inventory)
    ssh_all(n, lambda i: "sudo docker rm -f minimal-scheduler minimal-worker >/dev/null 2>&1 || true")
    return cold, rerun


def hand_down(n: int) -> float:
    """What down.yml does, by hand: every container labelled as the cluster's, removed on all machines at once."""
    started = time.monotonic()
    ssh_all(n, lambda i: "sudo docker ps -aq --filter label=io.github.adhoc.dask_cluster.cluster=dask "
                         "| xargs -r sudo docker rm -f >/dev/null")
    return time.monotonic() - started


def sshcluster_up_down(n: int) -> float:
    import asyncssh  # noqa: F401  (SSHCluster's transport; fail here rather than inside it)
    from distributed import Client, SSHCluster

    hosts = [lab.address(i) for i in range(n)]
    options = {"known_hosts": None, "username": "ansible", "client_keys": [str(lab.KEY)]}
    remote_python = f"sudo docker run --rm -i --network host --init {IMAGE} python"
    started = time.monotonic()
    with SSHCluster(hosts, connect_options=options, remote_python=remote_python,
                    scheduler_options={"dashboard_address": ":8787"},
                    worker_options={"nthreads": 1}) as cluster, Client(cluster) as client:
        client.wait_for_workers(n - 1, timeout=300)
        seconds = time.monotonic() - started
    # docker run does not always see its ssh session end: make sure nothing is left for the next method.
    ssh_all(n, lambda i: f"sudo docker ps -q --filter ancestor={IMAGE} "
                         "| xargs -r sudo docker rm -f >/dev/null 2>&1 || true")
    return seconds


class PeakMemory:
    """Peak summed RSS of a process tree (the controller's ansible-playbook and its forks), sampled."""

    def __init__(self, pid: int):
        import psutil

        self.process, self.peak, self._stop = psutil.Process(pid), 0, threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()

    def _sample(self) -> None:
        import psutil

        while not self._stop.is_set():
            try:
                tree = [self.process, *self.process.children(recursive=True)]
                self.peak = max(self.peak, sum(p.memory_info().rss for p in tree if p.is_running()))
            except psutil.Error:
                pass
            time.sleep(0.05)

    def stop(self) -> int:
        self._stop.set()
        self._thread.join()
        return self.peak


def playbook(name: str, inventory: Path, measure_memory: bool = False) -> tuple[float, int]:
    """Run playbooks/NAME (or bench/NAME when it is there) on the inventory; seconds and peak memory."""
    env = dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"))
    path = Path(__file__).parent / name if (Path(__file__).parent / name).is_file() else ROOT / "playbooks" / name
    started = time.monotonic()
    process = subprocess.Popen([ANSIBLE_PLAYBOOK, "-i", str(inventory), str(path)],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    memory = PeakMemory(process.pid) if measure_memory else None
    output, _ = process.communicate()
    seconds = time.monotonic() - started
    peak = memory.stop() if memory else 0
    if process.returncode != 0:
        raise RuntimeError(f"{name} failed:\n{output[-4000:]}")
    return seconds, peak


def container_memory(n: int) -> list[dict]:
    """Per container on each machine: its cgroup's memory use and the RSS of the processes inside it."""
    rows = []
    for i in range(n):
        out = lab.ssh(i, "for c in $(sudo docker ps --filter label=io.github.adhoc.dask_cluster.cluster "
                         "--format '{{.Names}}'); do "
                         "echo \"$c $(sudo docker stats --no-stream --format '{{.MemUsage}}' $c | cut -d/ -f1) "
                         "$(sudo docker top $c -o pid,rss,args | tail -n +2 | awk '{s+=$2; n+=1} END {print s, n}')\"; "
                         "done", capture_output=True, text=True).stdout
        for line in out.splitlines():
            name, usage, rss_kib, processes = line.split()
            rows.append({"machine": i, "container": name, "usage": usage, "rss_mib": int(rss_kib) / 1024,
                         "processes": int(processes)})
    return rows


def container_processes(n: int) -> dict[str, list[str]]:
    """What runs inside each of the cluster's containers on machines 0 and 1 (docker top needs the pid column)."""
    listing = {}
    for i in range(min(n, 2)):
        out = lab.ssh(i, "for c in $(sudo docker ps --filter label=io.github.adhoc.dask_cluster.cluster "
                         "--format '{{.Names}}'); do echo \"== $c\"; sudo docker top $c -o pid,rss,args | tail -n +2 "
                         "| cut -c1-110; done", capture_output=True, text=True).stdout
        listing[f"machine {i}"] = out.splitlines()
    return listing


def median(values: list[float]) -> float:
    return statistics.median(values)


def measure(n: int, reps: int, plain: bool, workdir: Path) -> dict:
    with lab.lab(n):
        ssh_all(n, lambda i: "sudo docker load -q -i /images/gds-standin.tar >/dev/null")
        common = {"dask_image": IMAGE, "dask_image_pull": "never",
                  "dask_cluster_output_dir": str(workdir / f"dask-{n}")}
        variants = {"defaults": common}
        if plain:
            variants["plain"] = dict(common, dask_tls_enabled=False, dask_jupyter_enabled=False)
        times: dict[str, list[float]] = {"guide": [], "hand down": [], "sshcluster": [], "ansible floor": [],
                                         "minimal cold": [], "minimal re-run": []}
        peaks: list[int] = []
        memory_rows, processes = [], {}
        for rep in range(reps):
            times["guide"].append(guide_up(n))
            guide_down(n)
            times["sshcluster"].append(sshcluster_up_down(n))
            minimal = minimal_up(n, lab.inventory(n, workdir / f"hosts-{n}-minimal.yml", {"dask_image": IMAGE}))
            times["minimal cold"].append(minimal[0])
            times["minimal re-run"].append(minimal[1])
            for label, extra in variants.items():
                inventory = lab.inventory(n, workdir / f"hosts-{n}-{label}.yml", extra)
                if label == "defaults":
                    times["ansible floor"].append(playbook("floor.yml", inventory)[0])
                cold, peak = playbook("up.yml", inventory, measure_memory=label == "defaults")
                wait_until_healthy(n)
                rerun, _ = playbook("up.yml", inventory)
                if label == "defaults":
                    peaks.append(peak)
                    if rep == 0:
                        memory_rows, processes = container_memory(n), container_processes(n)
                    times["hand down"].append(hand_down(n))
                    playbook("up.yml", inventory)  # the same cluster again, for down.yml to take down
                down, _ = playbook("down.yml", inventory)
                for key, value in (("up cold", cold), ("up re-run", rerun), ("down", down)):
                    times.setdefault(f"{key} ({label})", []).append(value)
            print(f"N={n} rep {rep + 1}: " + ", ".join(f"{k} {v[-1]:.1f}s" for k, v in times.items()), flush=True)
        return {"n": n, "times": {k: median(v) for k, v in times.items()}, "raw": times,
                "controller_peak_mib": max(peaks) / 2**20, "containers": memory_rows, "processes": processes}


def write_results(results: list[dict], reps: int) -> None:
    RESULTS.mkdir(exist_ok=True)
    machine = f"{os.cpu_count()} cores, {os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') / 2**30:.0f} GiB"
    lines = [f"# up/down against doing it by hand ({time.strftime('%Y-%m-%d')}, this project's CI machine: "
             f"{machine}; lab machines are containers on it)", "",
             f"Medians of {reps} runs, seconds; ratio columns divide by the baseline measured in the same run. "
             "N machines = 1 scheduler machine + N-1 worker machines.", ""]
    baselines = ("guide", "hand down", "sshcluster", "ansible floor", "minimal cold", "minimal re-run")
    keys = [k for k in results[0]["times"] if k not in baselines]
    lines.append("| N | guide (a) | SSHCluster (b) | hand teardown (e0) | Ansible floor (f) | "
                 "minimal playbook cold (g) | minimal re-run (g) | " + " | ".join(keys) + " |")
    lines.append("|---" * (7 + len(keys)) + "|")
    for r in results:
        t = r["times"]
        cells = []
        for k in keys:
            base = t["hand down"] if k.startswith("down") else t["sshcluster"]
            cells.append(f"{t[k]:.1f} ({t[k] / base:.1f}x {'hand' if k.startswith('down') else 'SSHC'}, "
                         f"{t[k] / t['guide']:.1f}x guide)" if not k.startswith("down")
                         else f"{t[k]:.1f} ({t[k] / base:.1f}x hand)")
        lines.append(f"| {r['n']} | {t['guide']:.1f} | {t['sshcluster']:.1f} | {t['hand down']:.1f} | "
                     f"{t['ansible floor']:.1f} | {t['minimal cold']:.1f} ({t['minimal cold'] / t['sshcluster']:.1f}x "
                     f"SSHC) | {t['minimal re-run']:.1f} ({t['minimal re-run'] / t['sshcluster']:.1f}x SSHC) | "
                     + " | ".join(cells) + " |")
    if len(results) >= 2:
        a, b = results[0], results[-1]
        lines += ["", "Marginal cost per machine (slope between the smallest and largest N) and a linear "
                  "projection to 100 machines (forks >= machines; one controller):", "",
                  "| method | s per machine | projected at N=100 |", "|---|---|---|"]
        for k in [*baselines, *keys]:
            slope = (b["times"][k] - a["times"][k]) / (b["n"] - a["n"])
            lines.append(f"| {k} | {slope:.2f} | {b['times'][k] + slope * (100 - b['n']):.0f} s |")
    last = results[-1]
    lines += ["", f"Controller peak memory during up.yml at N={last['n']} (ansible-playbook and its forks, "
              f"summed RSS, sampled every 50 ms): {last['controller_peak_mib']:.0f} MiB.", "",
              f"Containers at N={last['n']} (cgroup memory use as `docker stats` reports it, and the summed RSS "
              "and count of the processes inside):", "",
              "| machine | container | memory use | RSS of its processes | processes |", "|---|---|---|---|---|"]
    for row in last["containers"][:6]:
        lines.append(f"| {row['machine']} | {row['container']} | {row['usage']} | {row['rss_mib']:.0f} MiB | "
                     f"{row['processes']} |")
    lines += ["", "What runs in them (PID, RSS KiB, command):", "", "```"]
    for machine, listing in last["processes"].items():
        lines += [f"# {machine}", *listing]
    lines += ["```", "", "Raw runs:", "", "```", json.dumps([{"n": r["n"], **r["raw"]} for r in results]), "```"]
    (RESULTS / "up_down.md").write_text("\n".join(lines) + "\n")

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sizes = [r["n"] for r in results]
    fig, ax = plt.subplots(figsize=(7, 4.5))
    for k in [*baselines, *keys]:
        ax.plot(sizes, [r["times"][k] for r in results], marker="o", label=k)
    ax.set_xlabel("machines (N)")
    ax.set_ylabel("seconds (median)")
    ax.set_title("Bringing a Dask cluster up and down")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(RESULTS / "up_down.png", dpi=100)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[3, 8])
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--plain", action="store_true", help="also time up.yml with TLS and Jupyter off")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        results = [measure(n, args.reps, args.plain, Path(tmp)) for n in args.sizes]
    write_results(results, args.reps)
    print((RESULTS / "up_down.md").read_text())


if __name__ == "__main__":
    main()
