#!/usr/bin/env python3
"""Prepare this machine's test lab: two images built offline (from Debian packages and PyPI, only when
their recipe changed) and the SSH key Ansible uses to reach the lab hosts.

- GDS_STANDIN: a stand-in for the darribas/gds images, faithful where the collection depends on them
  (start.sh dropping to uid 1000, a docker-stacks HEALTHCHECK that probes Jupyter on 8888, JupyterLab, the
  `dask` CLI). Also saved as a tar, which the Molecule scenarios load into every lab host's engine.
- GDS_STANDIN_OTHER: the same, but Dask reads another distributed version in it (saved as a tar too).
- LAB_HOST: a "machine" for the lab: its own Docker engine and sshd, a sudo user `ansible`.

No registry is reachable here, so each image starts as a debootstrap rootfs imported with `docker import`,
finished by a `docker build` that needs no network. A hash of the recipe sits in a label; an image whose
label matches is kept.

The lab's SSH key pair (LAB_SSH_KEY) is made once; lab hosts read the public half from a mounted file.
"""
from __future__ import annotations

import argparse
import hashlib
import inspect
import os
import shutil
import subprocess
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from debian_image import chroot, import_rootfs, run

ROOT = Path(__file__).resolve().parent.parent
RECIPES = ROOT / "tools" / "images"
CACHE = ROOT / ".cache" / "images"
HASH_LABEL = "io.github.adhoc.recipe-hash"
GDS_STANDIN = "adhoc-test/gds-standin:ci"
LAB_HOST = "adhoc-test/lab-host:ci"
STANDIN_ARCHIVE = CACHE / "gds-standin.tar"
GDS_STANDIN_OTHER = "adhoc-test/gds-standin:other-distributed"
STANDIN_OTHER_ARCHIVE = CACHE / "gds-standin-other.tar"
LAB_SSH_KEY = ROOT / ".cache" / "lab" / "id_ed25519"


@dataclass(frozen=True)
class Recipe:
    image: str
    directory: Path
    packages: tuple[str, ...]
    customise: object  # function(rootfs) run in the chroot stage

    def digest(self) -> str:
        """What shapes the image: its package list, its recipe folder and the code that builds it."""
        h = hashlib.sha256(",".join(self.packages).encode())
        for path in sorted(self.directory.rglob("*")):
            if path.is_file():
                h.update(path.name.encode() + path.read_bytes())
        for function in (self.customise, build, import_rootfs):
            h.update(inspect.getsource(function).encode())
        return h.hexdigest()[:16]


def current_hash(image: str) -> str | None:
    out = subprocess.run(["docker", "image", "inspect", "--format",
                          f'{{{{ index .Config.Labels "{HASH_LABEL}" }}}}', image],
                         capture_output=True, text=True)
    return out.stdout.strip() if out.returncode == 0 else None


def customise_standin(rootfs: Path) -> None:
    shutil.copy("/etc/ssl/certs/ca-certificates.crt", rootfs / "etc/ssl/certs/ca-certificates.crt")
    shutil.copy("/etc/resolv.conf", rootfs / "etc/resolv.conf")
    shutil.copy(STANDIN.directory / "requirements.txt", rootfs / "tmp/requirements.txt")
    chroot(rootfs, "python3", "-m", "venv", "/opt/conda")
    chroot(rootfs, "/opt/conda/bin/pip", "install", "--no-cache-dir", "-q", "-r", "/tmp/requirements.txt")
    chroot(rootfs, "useradd", "-m", "-u", "1000", "-g", "100", "-s", "/bin/bash", "jovyan")
    (rootfs / "tmp/requirements.txt").unlink()


def customise_lab_host(rootfs: Path) -> None:
    chroot(rootfs, "useradd", "-m", "-s", "/bin/bash", "-G", "docker", "ansible")
    (rootfs / "etc/sudoers.d/ansible").write_text("ansible ALL=(ALL) NOPASSWD:ALL\n")
    (rootfs / "etc/ssh/sshd_config.d/lab.conf").write_text(
        "PasswordAuthentication no\nUseDNS no\nMaxStartups 100\nMaxSessions 100\n")
    for key in (rootfs / "etc/ssh").glob("ssh_host_*"):
        key.unlink()  # generated at start, so two lab hosts never share a host key


STANDIN = Recipe(GDS_STANDIN, RECIPES / "gds_standin",
                 ("python3", "python3-venv", "tini", "ca-certificates", "util-linux", "procps"),
                 customise_standin)
LABHOST = Recipe(LAB_HOST, RECIPES / "lab_host",
                 ("docker.io", "openssh-server", "python3", "python3-requests", "sudo", "iproute2",
                  "procps", "iptables", "ca-certificates", "tini", "util-linux"),
                 customise_lab_host)



def build(recipe: Recipe, force: bool) -> str:
    digest = recipe.digest()
    if not force and current_hash(recipe.image) == digest:
        return f"{recipe.image}: up to date ({digest})"
    base = f"{recipe.image}-base"
    import_rootfs(base, recipe.packages, recipe.customise, CACHE)
    run("docker", "build", "-q", "--build-arg", f"BASE={base}", "--label", f"{HASH_LABEL}={digest}",
        "-t", recipe.image, str(recipe.directory), env=dict(os.environ, DOCKER_BUILDKIT="0"),
        capture_output=True)  # the legacy builder's deprecation notice is noise; errors still raise
    run("docker", "rmi", base, stdout=subprocess.DEVNULL)
    return f"{recipe.image}: built ({digest})"


def build_standin_other() -> str:
    """The stand-in as another distributed release would look to Dask; rebuilt whenever the stand-in is."""
    base_id = run("docker", "image", "inspect", "--format", "{{.Id}}", GDS_STANDIN,
                  capture_output=True, text=True).stdout.strip()
    digest = hashlib.sha256(base_id.encode() + (RECIPES / "gds_standin_other" / "Dockerfile").read_bytes())
    digest = digest.hexdigest()[:16]
    if current_hash(GDS_STANDIN_OTHER) == digest:
        return f"{GDS_STANDIN_OTHER}: up to date ({digest})"
    run("docker", "build", "-q", "--build-arg", f"BASE={GDS_STANDIN}", "--label", f"{HASH_LABEL}={digest}",
        "-t", GDS_STANDIN_OTHER, str(RECIPES / "gds_standin_other"), env=dict(os.environ, DOCKER_BUILDKIT="0"),
        capture_output=True)
    return f"{GDS_STANDIN_OTHER}: built ({digest})"


def save_archive(image: str, archive: Path) -> str:
    """`docker save` of an image, refreshed when the image changed (compared by image ID)."""
    image_id = run("docker", "image", "inspect", "--format", "{{.Id}}", image,
                   capture_output=True, text=True).stdout.strip()
    stamp = archive.with_suffix(".id")
    if archive.exists() and stamp.exists() and stamp.read_text() == image_id:
        return f"{archive}: up to date"
    partial = archive.with_suffix(".partial")
    run("docker", "save", "-o", str(partial), image)
    partial.rename(archive)
    stamp.write_text(image_id)
    return f"{archive}: saved"


def ensure_lab_ssh_key() -> str:
    if LAB_SSH_KEY.exists() and LAB_SSH_KEY.with_suffix(".pub").exists():
        return f"{LAB_SSH_KEY}: present"
    LAB_SSH_KEY.parent.mkdir(parents=True, exist_ok=True)
    LAB_SSH_KEY.unlink(missing_ok=True)
    run("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "dask-cluster-lab", "-f", str(LAB_SSH_KEY))
    return f"{LAB_SSH_KEY}: created"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--force", action="store_true", help="rebuild even when the recipe is unchanged")
    args = parser.parse_args()
    CACHE.mkdir(parents=True, exist_ok=True)
    with ThreadPoolExecutor(max_workers=2) as pool:
        jobs = [pool.submit(build, recipe, args.force) for recipe in (STANDIN, LABHOST)]
        for job in jobs:
            print("prepare_lab:", job.result(), flush=True)
    print("prepare_lab:", build_standin_other())
    print("prepare_lab:", save_archive(GDS_STANDIN, STANDIN_ARCHIVE))
    print("prepare_lab:", save_archive(GDS_STANDIN_OTHER, STANDIN_OTHER_ARCHIVE))
    print("prepare_lab:", ensure_lab_ssh_key())


if __name__ == "__main__":
    main()
