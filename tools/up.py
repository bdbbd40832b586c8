#!/usr/bin/env python3
"""`make up`: a Dask cluster on this machine (or on INVENTORY's machines) with playbooks/up.yml.

On this machine (inventories/local), where the engine lacks the default image and can reach no registry for
it, up.yml would fail at the pull. Instead this says so and builds a Dask image here: a base from Debian's packages
(Python, tini), plus Dask and JupyterLab from the Python package index at the versions the collection tests
(the gds stand-in's requirements), through the collection's own build (dask_image_source build). The base is
kept, named by a hash of its recipe, so that a second `make up` builds nothing.
Any other inventory runs up.yml as it is: there, the machines pull, not this one.
"""
from __future__ import annotations

import argparse
import hashlib
import http.client
import inspect
import json
import os
import re
import socket
import subprocess
import sys
from pathlib import Path
from urllib.parse import quote

import yaml
from debian_image import chroot, import_rootfs

ROOT = Path(__file__).resolve().parent.parent
LOCAL_INVENTORY = ROOT / "inventories" / "local"
DEFAULT_IMAGE = yaml.safe_load((ROOT / "roles/dask/defaults/main.yml").read_text())["dask_image"]
DASK_REQUIREMENTS = ROOT / "tools" / "images" / "gds_standin" / "requirements.txt"
BASE_NAME = "dask-cluster/debian-python"
BASE_PACKAGES = ("python3", "python3-venv", "tini", "ca-certificates")
# The base's interpreter is a venv first on PATH, the image user is the gds images' (dask_container_owner).
BASE_CHANGES = ('ENV PATH=/opt/dask/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
                'ENV HOME=/home/jovyan', 'WORKDIR /home/jovyan', 'USER 1000:100',
                'ENTRYPOINT ["tini", "-g", "--"]')


class EngineConnection(http.client.HTTPConnection):
    """HTTP to the Docker engine's socket: the engine's view of the registry (its proxy, mirrors, DNS)."""

    def __init__(self, path: str):
        super().__init__("localhost", timeout=60)
        self.socket_path = path

    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(self.timeout)
        self.sock.connect(self.socket_path)


# The engine's words when it could not reach a registry at all (Go's net and TLS errors).
UNREACHABLE = re.compile(r"dial tcp|no such host|connection refused|i/o timeout|network is unreachable|"
                         r"TLS handshake timeout|no route to host", re.I)


def engine_has(image: str) -> bool:
    return subprocess.run(["docker", "image", "inspect", image], capture_output=True).returncode == 0


def registry_unreachable(image: str) -> str | None:
    """Why no registry can be reached for `image`, as the engine says it; None when one answered (even to refuse:
    a missing tag, a login or a rate limit is up.yml's pull to report) or the engine is not on a local socket."""
    host = os.environ.get("DOCKER_HOST", "unix:///var/run/docker.sock")
    if not host.startswith("unix://"):
        return None
    connection = EngineConnection(host.removeprefix("unix://"))
    try:
        connection.request("GET", f"/distribution/{quote(image, safe='/:@')}/json")
        response = connection.getresponse()
        body = response.read().decode(errors="replace")
    finally:
        connection.close()
    try:
        message = str(json.loads(body).get("message", body)).strip()
    except ValueError:
        message = body.strip()
    return message if response.status >= 500 and UNREACHABLE.search(message) else None


def customise_base(rootfs: Path) -> None:
    chroot(rootfs, "python3", "-m", "venv", "/opt/dask")
    chroot(rootfs, "useradd", "-m", "-u", "1000", "-g", "100", "-s", "/bin/bash", "jovyan")


def local_base() -> str:
    """The Debian base image, built unless the engine holds the one of this recipe."""
    recipe = hashlib.sha256(repr((BASE_PACKAGES, BASE_CHANGES)).encode())
    for function in (customise_base, import_rootfs):
        recipe.update(inspect.getsource(function).encode())
    image = f"{BASE_NAME}:{recipe.hexdigest()[:16]}"
    if not engine_has(image):
        if os.geteuid() != 0:
            sys.exit(f"make up: building {image} needs root (debootstrap, chroot): run make up as root once, or "
                     f"bring the gds image to this engine (docs/images.md).")
        print(f"make up: building {image} from Debian's packages", flush=True)
        import_rootfs(image, BASE_PACKAGES, customise_base, ROOT / ".cache" / "images", BASE_CHANGES)
    return image


def local_image_settings(base: str) -> dict:
    requirements = [line.strip() for line in DASK_REQUIREMENTS.read_text().splitlines()
                    if line.strip() and not line.lstrip().startswith("#")]
    return {"dask_image_source": "build", "dask_image_build_base": base, "dask_image_packages": requirements,
            "dask_command_prefix": [], "dask_healthcheck_python": "python"}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-i", "--inventory", default=str(LOCAL_INVENTORY))
    parser.add_argument("--image", help=f"the image to run (dask_image; default {DEFAULT_IMAGE})")
    args, playbook_args = parser.parse_known_args()
    image = args.image or DEFAULT_IMAGE
    settings = {"dask_image": args.image} if args.image else {}
    local = Path(args.inventory).resolve() == LOCAL_INVENTORY
    problem = None if not local or engine_has(image) else registry_unreachable(image)
    if problem:
        print(f"make up: {image} is not on this engine, and no registry can be reached ({problem}).\n"
              f"make up: using a Dask image built on this machine instead (once, then kept): Debian's Python, and "
              f"Dask and JupyterLab from the Python package index at the versions the collection tests.", flush=True)
        settings.update(local_image_settings(local_base()))
    # The caller's own -e come last, so that they win.
    command = [str(Path(sys.executable).parent / "ansible-playbook"), str(ROOT / "playbooks" / "up.yml"),
               "-i", args.inventory, *(["-e", json.dumps(settings)] if settings else []), *playbook_args]
    status = subprocess.run(command, env=dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"))).returncode
    if problem and status == 0:
        print(f"make up: this cluster runs a Dask image built here, not {image}. For the gds image, run\n"
              f"  make up\n"
              f"on a machine whose Docker engine reaches a registry (it pulls {image}), or pull it on one\n"
              f"that does and bring it here as an archive: docs/images.md.")
    return status


if __name__ == "__main__":
    sys.exit(main())
