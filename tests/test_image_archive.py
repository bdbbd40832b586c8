"""playbooks/image.yml makes the archive that dask_image_source: archive distributes: the first run saves the
machine's image and fetches it to the controller, a second run fetches nothing."""
from __future__ import annotations

import json
import re
import subprocess
import tarfile
from pathlib import Path

from conftest import ROOT, STANDIN_IMAGE, playbook


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
    assert not list(Path("/var/tmp").glob("dask_cluster-export-*.tar"))  # nothing left on the machine
