#!/usr/bin/env python3
"""Make sure a Docker engine answers on this machine, installing and starting one if needed.

The test suite needs a local engine to run the lab hosts. Machines of this kind have no init system, so
nothing starts dockerd for us: install Debian's docker.io when dockerd is missing, then start it in the
background and wait until `docker info` answers.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

PIDFILE = Path("/var/run/docker.pid")
LOG = Path("/var/log/dockerd-adhoc.log")
APT_PACKAGES = ["docker.io", "debootstrap", "openssh-client", "iproute2"]


def engine_answers() -> bool:
    return subprocess.run(["docker", "info"], capture_output=True).returncode == 0


def install_packages() -> None:
    missing = [p for p in APT_PACKAGES if subprocess.run(
        ["dpkg-query", "-W", "-f=${Status}", p], capture_output=True, text=True
    ).stdout.strip() != "install ok installed"]
    if not missing:
        return
    if os.geteuid() != 0:
        sys.exit(f"docker_engine: please install {' '.join(missing)} (needs root)")
    print(f"docker_engine: installing {' '.join(missing)}", flush=True)
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    subprocess.run(["apt-get", "update", "-qq"], check=True, env=env)
    subprocess.run(["apt-get", "install", "-y", "-qq", "--no-install-recommends", *missing],
                   check=True, env=env, stdout=subprocess.DEVNULL)


def remove_stale_pidfile() -> None:
    if not PIDFILE.exists():
        return
    try:
        pid = int(PIDFILE.read_text().strip())
        comm = Path(f"/proc/{pid}/comm").read_text().strip()
    except (ValueError, OSError):
        comm = ""
    if comm != "dockerd":
        PIDFILE.unlink()


def start_engine(timeout: float = 60.0) -> None:
    remove_stale_pidfile()
    with LOG.open("ab") as log:
        subprocess.Popen(["dockerd"], stdout=log, stderr=log, stdin=subprocess.DEVNULL,
                         start_new_session=True)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if engine_answers():
            return
        time.sleep(0.5)
    sys.exit(f"docker_engine: dockerd did not answer within {timeout:.0f}s; see {LOG}")


def main() -> None:
    install_packages()
    if engine_answers():
        print("docker_engine: engine is running")
        return
    if not shutil.which("dockerd"):
        sys.exit("docker_engine: dockerd not found after installing docker.io")
    start_engine()
    print("docker_engine: started dockerd")


if __name__ == "__main__":
    main()
