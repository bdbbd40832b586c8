"""playbooks/image.yml makes the archive that dask_image_source: archive distributes: the first run saves the
machine's image and fetches it to the controller, a second run fetches nothing. The fetch streams the archive in
bounded chunks, also under become (where ansible.builtin.fetch would read the whole file into memory), and
leaves nothing on the machine."""
from __future__ import annotations

import hashlib
import json
import re
import subprocess
import sys
import tarfile
from pathlib import Path

from conftest import BIN, ROOT, STANDIN_IMAGE, playbook, run

# Runs a command and writes the peak resident set size (KiB) of the largest process in its tree to a file.
PEAK_RSS = """\
import resource, subprocess, sys
code = subprocess.run(sys.argv[2:]).returncode
open(sys.argv[1], "w").write(str(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss))
sys.exit(code)
"""


def leftovers() -> list[Path]:
    """What the collection made under /var/tmp on this machine: archives, `.partial` files, private directories."""
    return sorted(Path("/var/tmp").glob("dask_cluster-*"))


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def test_image_playbook_fetches_the_machines_image_once(tmp_path):
    archive = tmp_path / "gds.tar"
    extra = ["-e", f"dask_image={STANDIN_IMAGE}", "-e", "dask_image_pull=never", "-e", f"dask_image_archive={archive}"]
    first = playbook("image", ROOT / "inventories/local", *extra)
    assert first.returncode == 0, first.stdout + first.stderr
    with tarfile.open(archive) as tar:
        manifest = json.load(tar.extractfile("manifest.json"))
    local_id = subprocess.run(["docker", "image", "inspect", "--format", "{{.Id}}", STANDIN_IMAGE],
                              capture_output=True, text=True, check=True).stdout.strip()
    assert manifest[0]["RepoTags"] == [STANDIN_IMAGE]
    assert local_id.removeprefix("sha256:") in manifest[0]["Config"]
    again = playbook("image", ROOT / "inventories/local", *extra)
    assert again.returncode == 0, again.stdout + again.stderr
    assert sum(int(n) for n in re.findall(r"changed=(\d+)", again.stdout)) == 0, again.stdout
    assert not leftovers()  # nothing left on the machine


def test_the_fetch_under_become_streams_the_archive(tmp_path):
    """Under become, ansible.builtin.fetch reads the file with slurp: the whole archive, base64, in one process.
    su to root works here without a password (the tests run as root), so it stands in for sudo. Ansible's
    temporary files on the machine go to a directory of this test's own, to see that none is left there."""
    archive, peak, machine_tmp = tmp_path / "gds.tar", tmp_path / "peak-rss-kib", tmp_path / "machine-tmp"
    result = run(sys.executable, "-c", PEAK_RSS, str(peak), str(BIN / "ansible-playbook"), "playbooks/image.yml",
                 "-i", str(ROOT / "inventories/local"), "-e", f"dask_image={STANDIN_IMAGE}",
                 "-e", "dask_image_pull=never", "-e", f"dask_image_archive={archive}",
                 "-e", "ansible_become=true", "-e", "ansible_become_method=su", "-e", "ansible_become_user=root",
                 "-e", f"ansible_remote_tmp={machine_tmp}")
    assert result.returncode == 0, result.stdout + result.stderr
    saved = subprocess.run(f"docker save {STANDIN_IMAGE} | sha256sum", shell=True, capture_output=True, text=True,
                           check=True).stdout.split()[0]
    assert sha256(archive) == saved
    peak_bytes, size = int(peak.read_text()) * 1024, archive.stat().st_size
    assert peak_bytes < size / 2, f"peak RSS {peak_bytes >> 20} MiB for an archive of {size >> 20} MiB"
    assert "SHA-256 verified" in result.stdout, result.stdout
    assert not leftovers()
    assert not list(machine_tmp.glob("*"))
    assert not list(tmp_path.glob("*.partial"))
