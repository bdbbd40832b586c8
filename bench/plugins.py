#!/usr/bin/env python3
"""Benchmark (issue 16): what each of the collection's custom plugins saves against the standard module(s) it
replaces, and the cost model those savings rest on, on a lab of 8 machines, all in the same run.

Every number is a difference or a ratio between playbooks run in the same session, interleaved (A, B, B, A, ...
the order alternating between repetitions), medians of --reps. Each playbook is measured three ways:
  wall:        seconds from ansible-playbook's start to its end;
  controller:  CPU seconds of ansible-playbook and every process it waited for (its forks, ssh clients, local
               module runs): getrusage(RUSAGE_CHILDREN) around it. The SSH ControlMaster it leaves running is not
               counted (nor is it for the baseline);
  machines:    CPU seconds of the 8 lab machines together, outside the containers they run: each machine is a
               container on this host, whose cgroup (read on the host, before and after) counts everything that
               ran in it (sshd, sudo, Python, the Docker engine); the containers its engine runs are a child cgroup
               of it, subtracted, since a running cluster's own work is not the task's.

1. The cost model: playbooks of K identical tasks against one of no task, on the 8 machines; (wall, CPU) per task
   per machine = difference / (K * 8). A skipped task, a task that runs on the controller only (set_fact), a
   module run (command `true`, community.docker.docker_host_info) and the same read by the collection's
   machine program (dask_machine_info).
2. Each plugin on up.yml's or down.yml's default path against the same work done with standard modules, on the
   8 machines (cold where it matters, and re-run), with the plugin's arguments as the roles give them.
3. The callback preload_jinja: up.yml re-run on a healthy 8-machine cluster, with and without it.
4. The image plugins exist for progress on long transfers: dask_image_transfer's time to its first progress line
   against ansible.builtin.copy, moving the stand-in image archive (.cache/images) to one machine.
   dask_image_pull needs a registry, which the lab has not; dask_image_fetch, see image_transfer().

The lab is named dask-cost on 172.28.61.0/24, so that bench/versions.py and bench/up_down.py (dask-bench) can run
at the same time. Writes bench/results/plugins.md.
    .venv/bin/python bench/plugins.py --reps 3
"""
from __future__ import annotations

import argparse
import contextlib
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import yaml

import lab

ROOT = lab.ROOT
ANSIBLE_PLAYBOOK = str(Path(sys.executable).parent / "ansible-playbook")
N = 8
LAB_NAME, SUBNET = "dask-cost", "172.28.61"
IMAGE = "adhoc-test/gds-standin:ci"
ARCHIVE = lab.IMAGES / "gds-standin.tar"
MACHINES = "dask_scheduler:dask_workers"
IS_SCHEDULER = "inventory_hostname in groups['dask_scheduler']"
# The roles' defaults: the cluster's directory on each machine, its labels and its secrets group.
CLUSTER_DIR = "/var/lib/dask_cluster/dask"
LABEL_CLUSTER, LABEL_ROLE = "io.github.adhoc.dask_cluster.cluster", "io.github.adhoc.dask_cluster.role"
SECRETS_GROUP = "dask-cluster"
# community.crypto is not one of the collection's requirements: the baseline of dask_certificate takes it from
# the same `ansible` bundle tools/install_collections.py reads, into a path of the benchmark's own.
BENCH_COLLECTIONS = ROOT / ".cache" / "bench-collections"


@dataclass
class Cost:
    """What one playbook run cost."""
    wall: float
    controller: float
    machines: float
    output: str = ""
    lines: list[tuple[float, str]] = field(default_factory=list)  # (seconds since start, line)

    @property
    def cpu(self) -> float:
        return self.controller + self.machines


class Killed(RuntimeError):
    """ansible-playbook ended by a signal it did not send itself: the machine is shared, so such a run is
    measured again (with its preparation) rather than counted or fatal."""


def again_if_killed(measure, attempts: int = 3):
    """measure(), repeated while a run of it is killed from outside."""
    for _ in range(attempts):
        try:
            return measure()
        except Killed as exc:
            print(f"{exc}; measuring again", flush=True)
    raise RuntimeError(f"killed {attempts} times in a row")


def median(values) -> float:
    return statistics.median(list(values))


class Bench:
    """The lab of this run: its inventory, the environment every playbook runs with, and the machines' CPU."""

    def __init__(self, workdir: Path):
        self.workdir = workdir
        self.inventory = lab.inventory(N, workdir / "hosts.yml", {
            "dask_image": IMAGE, "dask_image_pull": "never", "dask_cluster_output_dir": str(workdir / "dask")},
            subnet=SUBNET)
        self.env = dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"), PYTHONUNBUFFERED="1",
                        ANSIBLE_COLLECTIONS_PATH=f"{ROOT / '.collections'}:{BENCH_COLLECTIONS}")
        self.cgroups = [machine_cgroup(f"{LAB_NAME}-{i}") for i in range(N)]

    def machines_cpu(self) -> float:
        """The machines' CPU so far, less that of the containers they run."""
        total = 0.0
        for counter in self.cgroups:
            total += read_cgroup_cpu(counter)
            inner = counter.parent / "docker" / counter.name
            if inner.is_file():
                total -= read_cgroup_cpu(inner)
        return total

    def ssh_all(self, command, machines=range(N)) -> None:
        """command(i) on each machine at once, over plain ssh (set-up and clean-up, never timed)."""
        with ThreadPoolExecutor(max_workers=N) as pool:
            list(pool.map(lambda i: lab.ssh(i, command(i), subnet=SUBNET, capture_output=True), machines))

    def ssh(self, i: int, command: str) -> str:
        return lab.ssh(i, command, subnet=SUBNET, capture_output=True, text=True).stdout

    def playbook(self, name: str, plays: list[dict]) -> Path:
        path = self.workdir / f"{name}.yml"
        path.write_text(yaml.dump(plays, Dumper=PlainDumper, sort_keys=False, width=120))
        return path

    def run(self, playbook: Path | str, env: dict | None = None) -> Cost:
        """Run a playbook on the lab; its cost, its output, and when each line of it appeared."""
        before_children = resource.getrusage(resource.RUSAGE_CHILDREN)
        before_machines = self.machines_cpu()
        started = time.monotonic()
        process = subprocess.Popen([ANSIBLE_PLAYBOOK, "-i", str(self.inventory), str(playbook)], text=True,
                                   stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env={**self.env, **(env or {})})
        lines = [(time.monotonic() - started, line) for line in process.stdout]
        process.wait()
        wall = time.monotonic() - started
        machines = self.machines_cpu() - before_machines
        after_children = resource.getrusage(resource.RUSAGE_CHILDREN)
        controller = (after_children.ru_utime - before_children.ru_utime
                      + after_children.ru_stime - before_children.ru_stime)
        output = "".join(line for _, line in lines)
        if process.returncode < 0:
            raise Killed(f"{playbook} was killed by signal {-process.returncode}")
        if process.returncode != 0:
            raise RuntimeError(f"{playbook} failed (exit {process.returncode}):\n{output[-4000:]}")
        return Cost(wall, controller, machines, output, lines)


class PlainDumper(yaml.SafeDumper):
    """Writes a task repeated K times K times over, not as YAML aliases."""

    def ignore_aliases(self, data) -> bool:
        return True


def machine_cgroup(container: str) -> Path:
    """The cgroup CPU counter of a lab machine (a container on this host), cgroup v1 or v2."""
    cid = lab.docker("inspect", "-f", "{{.Id}}", container).stdout.strip()
    fs = Path("/sys/fs/cgroup")
    for candidate in (fs / "cpuacct" / "docker" / cid / "cpuacct.usage",
                      fs / "cpu,cpuacct" / "docker" / cid / "cpuacct.usage",
                      fs / "cpuacct" / "system.slice" / f"docker-{cid}.scope" / "cpuacct.usage",
                      fs / "system.slice" / f"docker-{cid}.scope" / "cpu.stat",
                      fs / "docker" / cid / "cpu.stat"):
        if candidate.is_file():
            return candidate
    raise RuntimeError(f"no CPU accounting found for container {container} under {fs}")


def read_cgroup_cpu(path: Path) -> float:
    text = path.read_text()
    if path.name == "cpuacct.usage":
        return int(text) / 1e9
    return int(dict(line.split() for line in text.splitlines())["usage_usec"]) / 1e6


def play(tasks: list[dict], hosts: str = MACHINES, **keywords) -> dict:
    return {"name": "Bench", "hosts": hosts, "gather_facts": False, **keywords, "tasks": tasks}


def interleaved(reps: int, variants: dict, label: str) -> dict[str, list[Cost]]:
    """Each variant once per repetition, the order reversed every other repetition. A variant is a function that
    prepares the machines (untimed) and returns the cost of its timed playbook."""
    costs: dict[str, list[Cost]] = {name: [] for name in variants}
    for rep in range(reps):
        order = list(variants) if rep % 2 == 0 else list(reversed(variants))
        for name in order:
            costs[name].append(again_if_killed(variants[name]))
        print(f"{label} rep {rep + 1}: " + ", ".join(f"{name} {costs[name][-1].wall:.2f}s/"
                                                     f"{costs[name][-1].cpu:.2f}cpu" for name in variants),
              flush=True)
    return costs


def comparison(plugin: str, standard: str, case: str, costs: dict[str, list[Cost]], note: str = "") -> dict:
    """A table row: the plugin's medians, the standard's, the median of the paired savings, and the ratio."""
    with_, without = costs["plugin"], costs["standard"]
    row = {"plugin": plugin, "standard": standard, "case": case, "note": note}
    for measure in ("wall", "controller", "machines", "cpu"):
        a, b = [getattr(c, measure) for c in with_], [getattr(c, measure) for c in without]
        row[measure] = {"with": median(a), "without": median(b),
                        "saving": median(y - x for x, y in zip(a, b)),
                        "ratio": median(a) / median(b) if median(b) > 0 else float("nan")}
    return row


# --- 1. The cost model -------------------------------------------------------------------------------------------

def cost_model(bench: Bench, reps: int) -> list[dict]:
    """Per task and machine: K tasks against none, on the 8 machines."""
    host_info = {"community.docker.docker_host_info": {
        "containers": True, "containers_all": True, "images": True, "images_filters": {"reference": IMAGE},
        "verbose_output": True}}
    machine_info = {"adhoc.dask_cluster.dask_machine_info": {"image": IMAGE}}
    units = {
        # name: (what it is, K, the task)
        "skipped": ("a task skipped (`when: false`)", 10,
                    {"ansible.builtin.set_fact": {"x": 1}, "when": False}),
        "controller": ("a task run on the controller only (`set_fact`)", 10,
                       {"ansible.builtin.set_fact": {"x": "{{ inventory_hostname }}"}}),
        "command": ("a module run on the machine (`command: true`)", 2,
                    {"ansible.builtin.command": {"argv": ["true"]}, "changed_when": False}),
        "docker_host_info": ("a module run on the machine (`community.docker.docker_host_info`, containers and "
                             "images listed)", 2, {**host_info, "changed_when": False}),
        "dask_machine_info": ("the same read by the collection's machine program (`dask_machine_info`)", 3,
                              {**machine_info, "changed_when": False}),
    }
    empty = bench.playbook("model-empty", [play([])])
    books = {name: bench.playbook(f"model-{name}", [play([task] * k)]) for name, (_, k, task) in units.items()}
    per: dict[str, list[dict]] = {name: [] for name in units}
    for rep in range(reps):
        order = list(units) if rep % 2 == 0 else list(reversed(units))
        base = again_if_killed(lambda: bench.run(empty))
        for name in order:
            cost, k = again_if_killed(lambda: bench.run(books[name])), units[name][1]
            per[name].append({m: (getattr(cost, m) - getattr(base, m)) / (k * N)
                              for m in ("wall", "controller", "machines")})
        print(f"cost model rep {rep + 1}: empty {base.wall:.2f}s; " + ", ".join(
            f"{name} {per[name][-1]['wall']:.3f}s {per[name][-1]['controller']:.3f}+"
            f"{per[name][-1]['machines']:.3f}cpu" for name in units), flush=True)
    return [{"unit": name, "what": what, "k": k, "wall": median(p["wall"] for p in per[name]),
             "controller": median(p["controller"] for p in per[name]),
             "machines": median(p["machines"] for p in per[name])}
            for name, (what, k, _) in units.items()]


# --- 2. Each plugin against the standard modules ------------------------------------------------------------------

def machine_info(bench: Bench, reps: int) -> list[dict]:
    """up.yml's first read of each machine: engine, containers with labels, images under dask_image, listening
    ports, grouped as answered. The plugin also describes the cluster's paths and secrets group, which the
    standard set here does not: its saving is a lower bound."""
    plugin = bench.playbook("machine-info-plugin", [play([{
        "adhoc.dask_cluster.dask_machine_info": {
            "image": IMAGE, "root": CLUSTER_DIR, "secrets_group": SECRETS_GROUP,
            "paths": {"dask_cluster_data_root": "/var/lib/dask_cluster",
                      "dask_worker_local_directory": f"{CLUSTER_DIR}/worker-space"},
            "secrets_paths": [f"{CLUSTER_DIR}/tls", f"{CLUSTER_DIR}/tls/key.pem", f"{CLUSTER_DIR}/jupyter",
                              f"{CLUSTER_DIR}/jupyter/token"],
            "group": "bench_reachable"},
        "changed_when": False}])])
    standard = bench.playbook("machine-info-standard", [play([
        {"community.docker.docker_host_info": {"containers": True, "containers_all": True, "images": True,
                                               "images_filters": {"reference": IMAGE}, "verbose_output": True},
         "changed_when": False},
        {"ansible.builtin.command": {"argv": ["ss", "-Htln"]}, "changed_when": False},
        {"ansible.builtin.group_by": {"key": "bench_reachable"}, "changed_when": False}])])
    costs = interleaved(reps, {"plugin": lambda: bench.run(plugin), "standard": lambda: bench.run(standard)},
                        "dask_machine_info")
    return [comparison("dask_machine_info", "docker_host_info + command `ss` + group_by", "every run", costs,
                       "the plugin also describes the cluster's paths and secrets group")]


def directory_sets(workdir: Path) -> dict:
    """The directories and files up.yml places on each machine (TLS on, Jupyter on), as the roles give them to
    dask_directories: tls_machine.yml's keys and certificates, and containers.yml's notebook, Jupyter token
    and spill directories. The keys and certificates are stand-ins of their size."""
    placed = workdir / "placed"
    for i in range(N):
        host = placed / "hosts" / f"lab{i}"
        host.mkdir(parents=True, exist_ok=True)
        (host / "cert.pem").write_text("-----BEGIN CERTIFICATE-----\n" + "A" * 700 + "\n")
        (host / "key.pem").write_text("-----BEGIN PRIVATE KEY-----\n" + "B" * 250 + "\n")
    (placed / "ca.pem").write_text("-----BEGIN CERTIFICATE-----\n" + "C" * 650 + "\n")
    host = str(placed / "hosts") + "/{{ inventory_hostname }}"
    tls = {"path": f"{CLUSTER_DIR}/tls", "owner": "0", "group": SECRETS_GROUP, "mode": "0550", "files": [
        {"name": "ca.pem", "src": str(placed / "ca.pem"), "mode": "0444"},
        {"name": "cert.pem", "src": f"{host}/cert.pem", "mode": "0444"},
        {"name": "key.pem", "src": f"{host}/key.pem", "mode": "0440"}]}
    scheduler = [{"path": f"{CLUSTER_DIR}/notebooks", "owner": "1000", "group": "100", "mode": "0750"},
                 {"path": f"{CLUSTER_DIR}/jupyter", "owner": "0", "group": SECRETS_GROUP, "mode": "0550",
                  "files": [{"name": "token", "content": "t" * 48, "mode": "0440"}]}]
    worker = [{"path": f"{CLUSTER_DIR}/worker-space", "owner": "1000", "group": "100", "mode": "0750"}]
    return {"tls": tls, "scheduler": scheduler, "worker": worker}


def directories(bench: Bench, reps: int) -> list[dict]:
    """The keys, certificates, token and spill, notebook and token directories on machines that have none:
    two dask_directories tasks per machine (as tls_machine.yml and containers.yml run it), against file (each
    directory, the cluster's own with them) and copy (each file, and the marker that makes the cluster's
    directory the collection's). Not on a re-run: up.yml runs neither task where the containers already run as
    asked."""
    sets = directory_sets(bench.workdir)
    by_role = f"{{{{ __bench_scheduler if {IS_SCHEDULER} else __bench_worker }}}}"
    plugin = bench.playbook("directories-plugin", [play([
        {"adhoc.dask_cluster.dask_directories": {"root": CLUSTER_DIR, "directories": ["{{ __bench_tls }}"]}},
        {"adhoc.dask_cluster.dask_directories": {"root": CLUSTER_DIR, "directories": by_role}}],
        vars={"__bench_tls": sets["tls"], "__bench_scheduler": sets["scheduler"], "__bench_worker": sets["worker"]})])
    # The same, as file and copy take it: the cluster's directory and its marker first.
    standard_dirs, standard_files = {}, {}
    for role in ("scheduler", "worker"):
        directories_here = [sets["tls"], *sets[role]]
        standard_dirs[role] = [{"path": CLUSTER_DIR, "owner": "0", "group": "0", "mode": "0755"}] + [
            {key: d[key] for key in ("path", "owner", "group", "mode")} for d in directories_here]
        standard_files[role] = [{"dest": f"{CLUSTER_DIR}/.adhoc.dask_cluster", "content": "", "owner": "0",
                                 "group": "0", "mode": "0644"}] + [
            {"dest": f"{d['path']}/{f['name']}", "owner": d["owner"], "group": d["group"], "mode": f["mode"],
             **{key: f[key] for key in ("src", "content") if key in f}}
            for d in directories_here for f in d.get("files", [])]
    standard = bench.playbook("directories-standard", [play([
        {"ansible.builtin.file": {"path": "{{ item.path }}", "state": "directory", "owner": "{{ item.owner }}",
                                  "group": "{{ item.group }}", "mode": "{{ item.mode }}"},
         "loop": by_role.replace("__bench_", "__bench_dirs_")},
        {"ansible.builtin.copy": {"dest": "{{ item.dest }}", "src": "{{ item.src | default(omit) }}",
                                  "content": "{{ item.content | default(omit) }}", "owner": "{{ item.owner }}",
                                  "group": "{{ item.group }}", "mode": "{{ item.mode }}"},
         "loop": by_role.replace("__bench_", "__bench_files_")}],
        vars={"__bench_dirs_scheduler": standard_dirs["scheduler"], "__bench_dirs_worker": standard_dirs["worker"],
              "__bench_files_scheduler": standard_files["scheduler"],
              "__bench_files_worker": standard_files["worker"]})])

    def cold(book: Path):
        def run() -> Cost:
            bench.ssh_all(lambda i: f"sudo rm -rf {CLUSTER_DIR}")
            return bench.run(book)
        return run

    costs = interleaved(reps, {"plugin": cold(plugin), "standard": cold(standard)}, "dask_directories")
    return [comparison("dask_directories", "file + copy, one per directory and file", "cold", costs,
                       "a re-run of a healthy cluster runs neither: up.yml skips both tasks")]


def place_cluster(bench: Bench) -> None:
    """A cluster's containers (the image, sleeping, labelled as the roles label them) and files on every
    machine, as down.yml finds them."""
    def containers(i: int) -> list[tuple[str, str]]:
        return [("dask-scheduler", "scheduler"), ("dask-jupyter", "jupyter")] if i == 0 else [("dask-worker",
                                                                                              "worker")]

    def command(i: int) -> str:
        runs = " && ".join(
            f"sudo docker run -d --init --name {name} --label {LABEL_CLUSTER}=dask --label {LABEL_ROLE}={role} "
            f"--entrypoint sleep {IMAGE} infinity >/dev/null" for name, role in containers(i))
        paths = ("tls jupyter notebooks" if i == 0 else "tls worker-space").split()
        files = "tls/ca.pem tls/cert.pem tls/key.pem" + (" jupyter/token" if i == 0 else "")
        return (f"sudo docker rm -f dask-scheduler dask-jupyter dask-worker >/dev/null 2>&1; {runs} && "
                f"cd / && sudo mkdir -p {' '.join(f'{CLUSTER_DIR}/{p}' for p in paths)} && "
                f"sudo touch {CLUSTER_DIR}/.adhoc.dask_cluster "
                + " ".join(f"{CLUSTER_DIR}/{f}" for f in files.split()))
    bench.ssh_all(command)


def cluster_remove(bench: Bench, reps: int) -> list[dict]:
    """down.yml's one task per machine (containers by label, the token, spill and key directories, the
    cluster's directory once empty) against docker_container state=absent per container (Jupyter stopped,
    the others killed, as the plugin does) and file state=absent per path."""
    plugin = bench.playbook("remove-plugin", [play([{"adhoc.dask_cluster.dask_cluster_remove": {
        "cluster": "dask", "label_cluster": LABEL_CLUSTER, "label_role": LABEL_ROLE, "root": CLUSTER_DIR,
        "roles": ["scheduler", "jupyter", "worker"],
        "paths": f"{{{{ ['{CLUSTER_DIR}/jupyter', '{CLUSTER_DIR}/tls'] if {IS_SCHEDULER} "
                 f"else ['{CLUSTER_DIR}/worker-space', '{CLUSTER_DIR}/tls'] }}}}"}}])])
    standard = bench.playbook("remove-standard", [play([
        {"community.docker.docker_container": {"name": "{{ item.0 }}", "state": "absent",
                                               "force_kill": "{{ item.1 }}"},
         "loop": f"{{{{ [['dask-jupyter', false], ['dask-scheduler', true]] if {IS_SCHEDULER} "
                 "else [['dask-worker', true]] }}"},
        {"ansible.builtin.file": {"path": "{{ item }}", "state": "absent"},
         "loop": f"{{{{ ['{CLUSTER_DIR}/jupyter', '{CLUSTER_DIR}/tls'] if {IS_SCHEDULER} "
                 f"else ['{CLUSTER_DIR}/worker-space', '{CLUSTER_DIR}/tls', '{CLUSTER_DIR}'] }}}}"}])])
    left = ("sudo docker ps -aq --filter label=" + LABEL_CLUSTER + "=dask | wc -l; "
            f"sudo ls -A {CLUSTER_DIR} 2>/dev/null | tr '\\n' ' '")
    checked = set()

    def present(book: Path):
        def run() -> Cost:
            place_cluster(bench)
            cost = bench.run(book)
            if book not in checked:  # both leave the same machines: nothing of the cluster but the notebooks
                found = {i: bench.ssh(i, left).split() for i in (0, 1)}
                if found != {0: ["0", ".adhoc.dask_cluster", "notebooks"], 1: ["0"]}:
                    raise RuntimeError(f"{book.name} left {found}")
                checked.add(book)
            return cost
        return run

    rows = []
    costs = interleaved(reps, {"plugin": present(plugin), "standard": present(standard)},
                        "dask_cluster_remove")
    rows.append(comparison("dask_cluster_remove", "docker_container absent per container + file absent per path",
                           "cluster present", costs))
    costs = interleaved(reps, {"plugin": lambda: bench.run(plugin), "standard": lambda: bench.run(standard)},
                        "dask_cluster_remove nothing there")
    rows.append(comparison("dask_cluster_remove", "docker_container absent per container + file absent per path",
                           "nothing there", costs))
    return rows


def standard_roles(workdir: Path) -> int:
    """Copies of the three roles whose preflight.yml is what dask_check replaces: the role's own argument-spec
    validation (rolespec_validate, one validate_argument_spec task), one assert per check and a set_fact for
    the record. Returns the number of asserts."""
    asserts = 0
    for role in ("dask", "dask_scheduler", "dask_worker"):
        source, copy = ROOT / "roles" / role, workdir / "roles" / f"std_{role}"
        (copy / "tasks").mkdir(parents=True)
        for part in ("defaults", "vars", "meta", "files"):
            if (source / part).is_dir():
                (copy / part).symlink_to(source / part)
        tasks = []
        for task in yaml.safe_load((source / "tasks" / "preflight.yml").read_text()):
            check = task["adhoc.dask_cluster.dask_check"]
            extra = {"vars": task["vars"]} if "vars" in task else {}
            for number, item in enumerate(check["checks"], start=1):
                tasks.append({"name": f"preflight | Check {number}", "ansible.builtin.assert": {
                    "that": item["that"], "fail_msg": item["msg"], "quiet": True}, **extra})
                asserts += 1
            tasks.append({"name": "preflight | Record", "ansible.builtin.set_fact": {
                task["register"]: {"record": check["record"]}}, **extra})
        (copy / "tasks" / "preflight.yml").write_text(yaml.safe_dump(tasks, sort_keys=False, width=120))
    return asserts


def check(bench: Bench, reps: int) -> list[dict]:
    """The roles' preflight as up.yml runs it on every machine (the collection-wide settings, then the roles the
    machine plays): a dask_check task each, against validate_argument_spec + one assert per check + set_fact."""
    asserts = standard_roles(bench.workdir)

    def book(name: str, prefix: str, validate: bool) -> Path:
        role_list = (f"{{{{ (['{prefix}dask_scheduler'] if {IS_SCHEDULER} else []) + "
                     f"(['{prefix}dask_worker'] if inventory_hostname in groups['dask_workers'] else []) }}}}")
        return bench.playbook(name, [play([
            {"ansible.builtin.import_role": {"name": f"{prefix}dask", "tasks_from": "preflight",
                                             "rolespec_validate": validate}},
            {"ansible.builtin.include_role": {"name": "{{ __dask_role }}", "tasks_from": "preflight",
                                              "rolespec_validate": validate},
             "loop": role_list, "loop_control": {"loop_var": "__dask_role"}}])])

    plugin = book("check-plugin", "adhoc.dask_cluster.", False)
    standard = book("check-standard", "std_", True)
    costs = interleaved(reps, {"plugin": lambda: bench.run(plugin), "standard": lambda: bench.run(standard)},
                        "dask_check")
    return [comparison("dask_check", f"validate_argument_spec + assert per check ({asserts} in the three "
                                     "preflight.yml) + set_fact", "every run", costs)]


def certificate(bench: Bench, reps: int) -> list[dict]:
    """The cluster's CA once and each machine's key and certificate, issued on the controller from nothing:
    dask_certificate against community.crypto's openssl_privatekey + openssl_csr + x509_certificate. A re-run
    issues nothing either way: the filter dask_certificate_current skips the include that holds either."""
    out = bench.workdir / "certs"
    on_controller = {"connection": "local", "vars": {"ansible_become": False,
                                                     "ansible_python_interpreter": "{{ ansible_playbook_python }}"}}
    host = f"{out}/hosts/{{{{ inventory_hostname }}}}"
    sans = ["IP:127.0.0.1", "DNS:localhost", "DNS:{{ inventory_hostname }}", "IP:{{ ansible_host }}"]
    ca = {"ca_path": f"{out}/ca.pem", "ca_key_path": f"{out}/ca-key.pem"}
    plugin = bench.playbook("certificate-plugin", [play([
        {"adhoc.dask_cluster.dask_certificate": {"ca": True, "common_name": "Dask cluster dask CA", **ca,
                                                 "days": 3650}, "run_once": True},
        {"adhoc.dask_cluster.dask_certificate": {"prefix": f"{host}/", "common_name": "{{ inventory_hostname }}",
                                                 "subject_alt_name": sans, **ca, "days": 365}}],
        **on_controller)])
    key = {"type": "ECC", "curve": "secp384r1"}
    standard = bench.playbook("certificate-standard", [play([
        {"community.crypto.openssl_privatekey": {"path": ca["ca_key_path"], **key}, "run_once": True},
        {"community.crypto.openssl_csr": {
            "path": f"{out}/ca.csr", "privatekey_path": ca["ca_key_path"], "common_name": "Dask cluster dask CA",
            "use_common_name_for_san": False, "basic_constraints": ["CA:TRUE"], "basic_constraints_critical": True,
            "key_usage": ["keyCertSign", "cRLSign"], "key_usage_critical": True}, "run_once": True},
        {"community.crypto.x509_certificate": {
            "path": ca["ca_path"], "csr_path": f"{out}/ca.csr", "privatekey_path": ca["ca_key_path"],
            "provider": "selfsigned", "selfsigned_not_after": "+3650d"}, "run_once": True},
        {"community.crypto.openssl_privatekey": {"path": f"{host}/key.pem", **key}},
        {"community.crypto.openssl_csr": {
            "path": f"{host}/cert.csr", "privatekey_path": f"{host}/key.pem", "common_name": "{{ inventory_hostname }}",
            "subject_alt_name": sans, "key_usage": ["digitalSignature", "keyAgreement"],
            "extended_key_usage": ["serverAuth", "clientAuth"]}},
        {"community.crypto.x509_certificate": {
            "path": f"{host}/cert.pem", "csr_path": f"{host}/cert.csr", "provider": "ownca",
            "ownca_path": ca["ca_path"], "ownca_privatekey_path": ca["ca_key_path"], "ownca_not_after": "+365d"}}],
        **on_controller)])

    def cold(book: Path):
        def run() -> Cost:
            shutil.rmtree(out, ignore_errors=True)
            for i in range(N):  # the roles' controller directory for each machine exists before
                (out / "hosts" / f"lab{i}").mkdir(parents=True)
            return bench.run(book)
        return run

    costs = interleaved(reps, {"plugin": cold(plugin), "standard": cold(standard)}, "dask_certificate")
    return [comparison("dask_certificate", "community.crypto openssl_privatekey + openssl_csr + x509_certificate",
                       "cold (CA and 8 machines)", costs, "a re-run skips both the same way (the filter)")]


def crypto_collection() -> bool:
    """community.crypto in the benchmark's own collections path, from the `ansible` bundle."""
    try:
        target = lab.bundled_collection("community.crypto", BENCH_COLLECTIONS)
    except (ImportError, subprocess.CalledProcessError, OSError) as exc:
        print(f"community.crypto not available ({exc}): dask_certificate is not compared", flush=True)
        return False
    return (target / "MANIFEST.json").is_file()


def image_transfer(bench: Bench, reps: int) -> list[dict]:
    """The image archive to one machine: dask_image_transfer against ansible.builtin.copy, total time and time to
    the first progress line (copy prints only its result, at the end). dask_image_fetch is not compared: its
    standard counterpart, ansible.builtin.fetch, reads a file through slurp under become (the whole archive,
    base64-encoded, in memory on both ends), which outlasts this benchmark by far for an archive of this size."""
    size = ARCHIVE.stat().st_size
    dest = "/var/tmp/bench-image/image.tar"
    books = {
        "plugin": bench.playbook("transfer-plugin", [play([{"adhoc.dask_cluster.dask_image_transfer": {
            "src": str(ARCHIVE), "dest": dest}}], hosts="lab0")]),
        "standard": bench.playbook("transfer-standard", [play([{"ansible.builtin.copy": {
            "src": str(ARCHIVE), "dest": dest, "mode": "0600"}}], hosts="lab0")])}

    def first_line(cost: Cost) -> float:
        """When the first progress line (or, for copy, the task's result) appeared."""
        for seconds, line in cost.lines:
            if ": copying " in line or line.startswith(("changed: [lab0]", "ok: [lab0]")):
                return seconds
        return cost.wall

    def run(book: Path):
        def timed() -> Cost:
            bench.ssh(0, "sudo rm -rf /var/tmp/bench-image && sudo mkdir -m 0700 /var/tmp/bench-image")
            return bench.run(book)
        return timed

    costs = interleaved(reps, {name: run(book) for name, book in books.items()}, "dask_image_transfer")
    bench.ssh(0, "sudo rm -rf /var/tmp/bench-image")
    row = comparison("dask_image_transfer", "copy", f"{size / 2**20:.0f} MiB archive to one machine", costs)
    row["first_line"] = {name: median(first_line(c) for c in costs[name]) for name in costs}
    return [row]


# --- With a cluster up: the wait, the container exec, and up.yml re-run -------------------------------------------

def identity_count(bench: Bench) -> int:
    """How many workers the scheduler lists now (its dashboard on the scheduler machine's loopback)."""
    code = ("import json, ssl, urllib.request; print(len(json.load(urllib.request.urlopen("
            "'https://127.0.0.1:8787/json/identity.json', timeout=3, "
            "context=ssl._create_unverified_context())).get('workers', {})))")
    try:
        return int(bench.ssh(0, f"python3 -c \"{code}\"").strip())
    except (subprocess.CalledProcessError, ValueError):
        return -1


def wait_workers(bench: Bench, reps: int) -> list[dict]:
    """The scheduler's wait for its 7 workers (TLS on, as up.yml's default): one dask_wait_workers run against
    ansible.builtin.uri with until/retries/delay 1 on the same endpoint. All joined already (a re-run), and
    from the workers' restart (cold: the workers are stopped, the scheduler lists none, they are started, and
    the wait begins at once)."""
    url = "https://127.0.0.1:8787/json/identity.json"
    ca = f"{CLUSTER_DIR}/tls/ca.pem"
    names = [f"lab{i}" for i in range(1, N)]
    plugin = bench.playbook("wait-plugin", [play([{"adhoc.dask_cluster.dask_wait_workers": {
        "url": url, "ca_path": ca, "names": names, "timeout": 300}}], hosts="dask_scheduler")])
    standard = bench.playbook("wait-standard", [play([{
        "ansible.builtin.uri": {"url": url, "ca_path": ca}, "register": "__bench_identity",
        "until": ("__bench_identity.json.workers is defined and __bench_identity.json.workers.values() "
                  f"| map(attribute='name') | sort == {names}"),
        "retries": 300, "delay": 1}], hosts="dask_scheduler")])

    def cold(book: Path):
        def run() -> Cost:
            bench.ssh_all(lambda i: "sudo docker stop -t 10 dask-worker >/dev/null", machines=range(1, N))
            deadline = time.monotonic() + 60
            while identity_count(bench) != 0:
                if time.monotonic() > deadline:
                    raise TimeoutError("the scheduler still lists workers")
                time.sleep(0.5)
            bench.ssh_all(lambda i: "sudo docker start dask-worker >/dev/null", machines=range(1, N))
            return bench.run(book)
        return run

    rows = []
    costs = interleaved(reps, {"plugin": lambda: bench.run(plugin), "standard": lambda: bench.run(standard)},
                        "dask_wait_workers joined")
    rows.append(comparison("dask_wait_workers", "uri with until/retries (delay 1 s)", "all joined", costs))
    costs = interleaved(reps, {"plugin": cold(plugin), "standard": cold(standard)}, "dask_wait_workers cold")
    rows.append(comparison("dask_wait_workers", "uri with until/retries (delay 1 s)", "workers starting", costs))
    return rows


def container_exec(bench: Bench, reps: int) -> list[dict]:
    """A command in the cluster's container on each of the 8 machines (`true`, so that only the way in is
    timed): dask_container_exec against community.docker.docker_container_exec. up.yml runs it on the
    scheduler's machine only (the version check); down.yml --limit on each leaving worker machine."""
    container = f"{{{{ 'dask-scheduler' if {IS_SCHEDULER} else 'dask-worker' }}}}"
    plugin = bench.playbook("exec-plugin", [play([{"adhoc.dask_cluster.dask_container_exec": {
        "container": container, "argv": ["true"]}, "changed_when": False}])])
    standard = bench.playbook("exec-standard", [play([{"community.docker.docker_container_exec": {
        "container": container, "argv": ["true"]}, "changed_when": False}])])
    costs = interleaved(reps, {"plugin": lambda: bench.run(plugin), "standard": lambda: bench.run(standard)},
                        "dask_container_exec")
    return [comparison("dask_container_exec", "community.docker.docker_container_exec", "8 machines", costs)]


def preload_jinja(bench: Bench, reps: int) -> list[dict]:
    """up.yml re-run on the healthy cluster, with this checkout's ansible.cfg and with the same file without the
    callback."""
    config = bench.workdir / "ansible-no-preload.cfg"
    config.write_text("".join(line for line in (ROOT / "ansible.cfg").read_text().splitlines(keepends=True)
                              if not line.startswith("callbacks_enabled")))
    up = ROOT / "playbooks" / "up.yml"
    # A first re-run records the versions of the restarted workers; the next ones do not ask again.
    again_if_killed(lambda: bench.run(up))
    costs = interleaved(reps, {"plugin": lambda: bench.run(up),
                               "standard": lambda: bench.run(up, {"ANSIBLE_CONFIG": str(config)})},
                        "preload_jinja")
    return [comparison("preload_jinja (callback)", "none (each fork loads the Jinja plugins)", "up.yml re-run",
                       costs, "it acts in the controller; the machines' CPU follows the run's length (their "
                              "engines run the containers' healthchecks)")]


def wait_until_healthy(bench: Bench, timeout: float = 180) -> None:
    check = (f"sudo docker ps --filter label={LABEL_CLUSTER}=dask --format '{{{{.Status}}}}' "
             "| grep -v '(healthy)' || true")
    deadline = time.monotonic() + timeout
    while any(bench.ssh(i, check).strip() for i in range(N)):
        if time.monotonic() > deadline:
            raise TimeoutError("the cluster's containers did not all become healthy")
        time.sleep(1)


def with_cluster(bench: Bench, reps: int) -> list[dict]:
    bench.ssh_all(lambda i: f"sudo docker rm -f dask-scheduler dask-jupyter dask-worker >/dev/null 2>&1; "
                            f"sudo rm -rf {CLUSTER_DIR}")
    up = again_if_killed(lambda: bench.run(ROOT / "playbooks" / "up.yml"))
    print(f"up.yml cold: {up.wall:.1f}s", flush=True)
    wait_until_healthy(bench)
    rows = [*container_exec(bench, reps), *wait_workers(bench, reps)]
    wait_until_healthy(bench)
    rows += preload_jinja(bench, reps)
    again_if_killed(lambda: bench.run(ROOT / "playbooks" / "down.yml"))
    return rows


# --- Results -----------------------------------------------------------------------------------------------------

def write_results(model: list[dict], rows: list[dict], reps: int, transfer_reps: int, seconds: float,
                  load: tuple[float, float]) -> Path:
    machine = f"{os.cpu_count()} cores, {os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') / 2**30:.0f} GiB"
    lines = [f"# Custom plugins against the standard modules they replace ({time.strftime('%Y-%m-%d')})", "",
             f"bench/plugins.py on this project's CI machine ({machine}; the {N} lab machines are containers on it, "
             "reached over SSH), in one run of "
             f"{seconds / 60:.0f} minutes (load average {load[0]:.1f} at its start, {load[1]:.1f} at its end: other "
             f"benchmarks share the machine). Medians of {reps} interleaved repetitions ({transfer_reps} for the "
             "image transfer). CPU is the controller's "
             "(ansible-playbook and every process it waited for) plus the lab machines' outside the containers they "
             "run (each machine's cgroup less its containers' cgroup); wall is the playbook's. Saving is the median "
             "of the paired differences (without - with), ratio is median with / median without.", "",
             "## The cost model", "",
             f"Per task and machine: (a playbook of K such tasks - one of none) / (K x {N}), on {N} machines at "
             "once (forks >= machines), so wall is the 8-machine wall shared out.", "",
             "| unit | K | wall | controller CPU | machine CPU |", "|---|---|---|---|---|"]
    for unit in model:
        lines.append(f"| {unit['what']} | {unit['k']} | {unit['wall']:.3f} s | {unit['controller']:.3f} s | "
                     f"{unit['machines']:.3f} s |")
    lines += ["", f"## Each plugin at N={N}", "",
              "| plugin | standard replacement | case | wall with | wall without | wall saved | wall ratio | "
              "CPU with | CPU without | CPU saved | CPU ratio |", "|---" * 11 + "|"]
    for row in rows:
        w, c = row["wall"], row["cpu"]
        lines.append(f"| {row['plugin']} | {row['standard']} | {row['case']} | {w['with']:.2f} s | "
                     f"{w['without']:.2f} s | {w['saving']:.2f} s | {w['ratio']:.2f} | {c['with']:.2f} s | "
                     f"{c['without']:.2f} s | {c['saving']:.2f} s | {c['ratio']:.2f} |")
    lines += ["", "CPU split (seconds, with / without / saved):", "",
              "| plugin | case | controller | machines | note |", "|---|---|---|---|---|"]
    for row in rows:
        ctl, mac = row["controller"], row["machines"]
        lines.append(f"| {row['plugin']} | {row['case']} | {ctl['with']:.2f} / {ctl['without']:.2f} / "
                     f"{ctl['saving']:.2f} | {mac['with']:.2f} / {mac['without']:.2f} / {mac['saving']:.2f} | "
                     f"{row['note']} |")
    images = [row for row in rows if "first_line" in row]
    if images:
        lines += ["", "Time to the first progress line (a plain module prints only its result, at the end):", "",
                  "| plugin | case | with | without |", "|---|---|---|---|"]
        for row in images:
            lines.append(f"| {row['plugin']} | {row['case']} | {row['first_line']['plugin']:.1f} s | "
                         f"{row['first_line']['standard']:.1f} s |")
    lines += ["", "dask_image_pull is not measured: it needs a registry, and the lab has none.", "",
              "Raw medians:", "", "```", json.dumps({"model": model, "rows": rows}, indent=None), "```"]
    return lab.write_results("plugins.md", lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--transfer-reps", type=int, default=2, help="repetitions of the image transfer")
    parser.add_argument("--only", nargs="*", help="run only these comparisons (for trying the script)")
    parser.add_argument("--reuse-lab", action="store_true",
                        help="use the running dask-cost lab (with the image loaded) and leave it running")
    args = parser.parse_args()
    started, load_at_start = time.monotonic(), os.getloadavg()[0]
    has_crypto = crypto_collection()
    steps = {"model": None, "check": check, "certificate": certificate if has_crypto else None,
             "machine_info": machine_info, "directories": directories, "remove": cluster_remove,
             "image": image_transfer, "cluster": with_cluster}
    wanted = set(args.only or steps)
    machines = contextlib.nullcontext() if args.reuse_lab else lab.lab(N, LAB_NAME, SUBNET)
    with tempfile.TemporaryDirectory(prefix="bench-plugins-") as tmp, machines:
        bench = Bench(Path(tmp))
        bench.ssh_all(lambda i: f"sudo groupadd -r -f {SECRETS_GROUP}")
        if wanted & {"remove", "cluster"} and not args.reuse_lab:
            bench.ssh_all(lambda i: "sudo docker load -q -i /images/gds-standin.tar >/dev/null")
        print(f"lab ready: {time.monotonic() - started:.0f}s", flush=True)
        model = cost_model(bench, args.reps) if "model" in wanted else []
        rows = []
        for name, step in steps.items():
            if name == "model" or name not in wanted or step is None:
                continue
            if name == "cluster":
                rows += with_cluster(bench, args.reps)
            else:
                rows += step(bench, args.transfer_reps if name == "image" else args.reps)
    path = write_results(model, rows, args.reps, args.transfer_reps, time.monotonic() - started,
                         (load_at_start, os.getloadavg()[0]))
    print(path.read_text())


if __name__ == "__main__":
    main()
