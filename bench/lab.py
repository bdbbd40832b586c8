"""A lab of N machines for benchmarks: lab-host containers (own Docker engine, sshd, address) on a bridge
network of their own, and an Ansible inventory that reaches them over real SSH.

The same machines Molecule builds for the scenarios, without Molecule's bookkeeping, so that a benchmark
times only what it means to time. Traffic stays on the network the lab creates.

A lab has a name (its network, and the prefix of its machines' container names) and a /24 subnet; every
function takes both, with the defaults below. Two benchmarks that run at the same time need labs of different
names and subnets: starting a lab removes whatever containers carry its name.

A benchmark's results go to bench/results/ (write_results).
"""
from __future__ import annotations

import json
import subprocess
import sys
import time
import zipfile
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LAB_HOST = "adhoc-test/lab-host:ci"
KEY = ROOT / ".cache" / "lab" / "id_ed25519"
IMAGES = ROOT / ".cache" / "images"
RESULTS = ROOT / "bench" / "results"
NETWORK = "dask-bench"
SUBNET = "172.28.60"
# Every capability this Docker knows but SYS_RESOURCE, which this machine's bounding set lacks (see molecule/).
CAPABILITIES = ("CHOWN DAC_OVERRIDE DAC_READ_SEARCH FOWNER FSETID KILL SETGID SETUID SETPCAP LINUX_IMMUTABLE "
                "NET_BIND_SERVICE NET_BROADCAST NET_ADMIN NET_RAW IPC_LOCK IPC_OWNER SYS_MODULE SYS_RAWIO "
                "SYS_CHROOT SYS_PTRACE SYS_PACCT SYS_ADMIN SYS_BOOT SYS_NICE SYS_TIME SYS_TTY_CONFIG MKNOD LEASE "
                "AUDIT_WRITE AUDIT_CONTROL SETFCAP MAC_OVERRIDE MAC_ADMIN SYSLOG WAKE_ALARM BLOCK_SUSPEND "
                "AUDIT_READ").split()
SSH_OPTIONS = ["-i", str(KEY), "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
               "-o", "LogLevel=ERROR"]


def docker(*args: str, **kw) -> subprocess.CompletedProcess:
    return subprocess.run(["docker", *args], check=True, capture_output=True, text=True, **kw)


def address(i: int, subnet: str = SUBNET) -> str:
    return f"{subnet}.{10 + i}"


def ssh(i: int, command: str, subnet: str = SUBNET, **kw) -> subprocess.CompletedProcess:
    return subprocess.run(["ssh", *SSH_OPTIONS, f"ansible@{address(i, subnet)}", command], check=True, **kw)


def start(n: int, name: str = NETWORK, subnet: str = SUBNET) -> list[str]:
    """Start n lab hosts (index 0 is the scheduler machine) and wait until each engine answers."""
    stop(name=name)
    docker("network", "create", "--subnet", f"{subnet}.0/24", name)
    names = []
    for i in range(n):
        host = f"{name}-{i}"
        caps = [arg for cap in CAPABILITIES for arg in ("--cap-add", cap)]
        docker("run", "-d", "--name", host, "--hostname", host, "--network", name, "--ip", address(i, subnet),
               *caps, "--security-opt", "seccomp=unconfined", "--tmpfs", "/var/lib/docker:exec,suid,dev",
               "-v", f"{KEY}.pub:/etc/lab/authorized_key:ro", "-v", f"{IMAGES}:/images:ro", LAB_HOST)
        names.append(host)
    for host in names:
        for _ in range(240):
            if subprocess.run(["docker", "exec", host, "test", "-e", "/run/lab-ready"]).returncode == 0:
                break
            time.sleep(0.25)
        else:
            raise RuntimeError(f"{host}: its Docker engine did not start")
    return names


def stop(name: str = NETWORK) -> None:
    names = docker("ps", "-aq", "--filter", f"name=^{name}-[0-9]+$").stdout.split()
    if names:  # one already gone (removed by someone else) is as good as removed
        subprocess.run(["docker", "rm", "-f", *names], capture_output=True)
    subprocess.run(["docker", "network", "rm", name], capture_output=True)


def inventory(n: int, path: Path, extra_vars: dict, subnet: str = SUBNET) -> Path:
    """hosts.yml for the lab: machine 0 runs the scheduler, every other machine is a worker."""
    hosts = {f"lab{i}": {"ansible_host": address(i, subnet)} for i in range(n)}
    path.write_text(json.dumps({"all": {
        "hosts": hosts,
        "vars": {"ansible_user": "ansible", "ansible_become": True,
                 # Throwaway lab machines with fresh host keys each time: no host key checking, by choice.
                 "ansible_ssh_args": "-o ControlMaster=auto -o ControlPersist=60s -o StrictHostKeyChecking=no "
                                     "-o UserKnownHostsFile=/dev/null", "ansible_ssh_private_key_file": str(KEY),
                 # As inventories/lab sets it: named, not discovered (a round trip per machine saved).
                 "ansible_python_interpreter": "/usr/bin/python3",
                 **extra_vars},
        "children": {"dask_scheduler": {"hosts": {"lab0": None}},
                     "dask_workers": {"hosts": {f"lab{i}": None for i in range(1, n)}}}}}))
    return path


@contextmanager
def lab(n: int, name: str = NETWORK, subnet: str = SUBNET):
    try:
        yield start(n, name, subnet)
    finally:
        stop(name)


def bundled_collection(name: str, into: Path) -> Path:
    """The collection `name` (namespace.name) from the `ansible` bundle tools/install_collections.py reads, unpacked
    into the collections path `into` (once); for what a benchmark needs beyond requirements.yml."""
    target = into / "ansible_collections" / name.replace(".", "/")
    if not (target / "MANIFEST.json").is_file():
        sys.path.insert(0, str(ROOT / "tools"))
        from install_collections import BUNDLE, bundle_wheel
        prefix = f"ansible_collections/{name.replace('.', '/')}/"
        with zipfile.ZipFile(bundle_wheel(BUNDLE)) as archive:
            archive.extractall(into, [member for member in archive.namelist() if member.startswith(prefix)])
    if not (target / "MANIFEST.json").is_file():
        raise FileNotFoundError(f"the ansible bundle holds no collection {name}")
    return target


def write_results(name: str, lines: list[str]) -> Path:
    """bench/results/<name>: the lines, each ended by a newline; returns its path."""
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / name
    path.write_text("\n".join(lines) + "\n")
    return path
