"""Images from Debian's packages, for machines that reach no container registry: a debootstrap rootfs, finished
in a chroot and imported with `docker import`. The test lab's images (prepare_lab.py) and the local Dask base
image of `make up` (up.py) start so.
"""
from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path

SUITE = "bookworm"


def run(*cmd: str, **kw) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, check=True, **kw)


def debian_mirror() -> str:
    """The Debian mirror this machine's apt already uses (never a hard-coded host)."""
    texts = [p.read_text() for p in sorted(Path("/etc/apt/sources.list.d").glob("*.sources"))]
    for text in texts:
        for stanza in text.split("\n\n"):
            uris = re.search(r"^URIs:\s*(\S+)", stanza, re.M)
            suites = re.search(r"^Suites:\s*(.+)$", stanza, re.M)
            if uris and suites and SUITE in suites.group(1).split() and "security" not in uris.group(1):
                return uris.group(1)
    sources = Path("/etc/apt/sources.list")
    if sources.exists():
        m = re.search(rf"^deb\s+(?:\[[^]]*\]\s+)?(\S+)\s+{SUITE}\s", sources.read_text(), re.M)
        if m:
            return m.group(1)
    sys.exit(f"debian_image: no Debian {SUITE} mirror found in /etc/apt/sources.list{{,.d}}")


def chroot(rootfs: Path, *cmd: str) -> None:
    """A command in the rootfs, with this machine's pip settings but its own certificate bundle path."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIP_FIND_LINKS")}
    env["PIP_CERT"] = "/etc/ssl/certs/ca-certificates.crt"
    run("chroot", str(rootfs), *cmd, env=env)


def import_rootfs(image: str, packages: Sequence[str], customise: Callable[[Path], None], work_dir: Path,
                  changes: Sequence[str] = ()) -> None:
    """Tag `image`: Debian's minimal base with `packages`, then `customise(rootfs)` (with /proc and /dev
    mounted), imported with the Dockerfile instructions `changes` (ENV, USER, ...)."""
    work_dir.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="rootfs-", dir=work_dir))
    rootfs = work / "rootfs"
    try:
        run("debootstrap", "--variant=minbase", f"--include={','.join(packages)}", SUITE, str(rootfs),
            debian_mirror(), stdout=subprocess.DEVNULL)
        for mount in ("proc", "dev"):
            run("mount", "--bind", f"/{mount}", str(rootfs / mount))
        # Read-only: a build killed before the unmount below leaves the machine's /dev mounted in the rootfs, and
        # removing that folder would then remove the machine's device nodes. Device nodes work on a read-only mount.
        run("mount", "-o", "remount,bind,ro", str(rootfs / "dev"))
        try:
            customise(rootfs)
        finally:
            for mount in ("dev", "proc"):
                subprocess.run(["umount", "-l", str(rootfs / mount)])
        run("rm", "-rf", str(rootfs / "var/cache/apt/archives"), str(rootfs / "var/lib/apt/lists"))
        tar = subprocess.Popen(["tar", "-C", str(rootfs), "-c", "."], stdout=subprocess.PIPE)
        options = [arg for change in changes for arg in ("--change", change)]
        run("docker", "import", *options, "-", image, stdin=tar.stdout, stdout=subprocess.DEVNULL)
        if tar.wait() != 0:
            raise RuntimeError("tar of the rootfs failed")
    finally:
        run("rm", "-rf", "--one-file-system", str(work))
