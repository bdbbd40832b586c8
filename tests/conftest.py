"""Helpers for the top-level suite: run the project's own commands from the checkout root, as a user would."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
STANDIN_IMAGE = "adhoc-test/gds-standin:ci"
LABEL_CLUSTER = "io.github.adhoc.dask_cluster.cluster"


def run(*cmd: str, timeout: float = 600, env: dict | None = None) -> subprocess.CompletedProcess:
    """Run a command from the checkout root with the project's ansible.cfg; output captured as text."""
    full_env = dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"), ANSIBLE_FORCE_COLOR="0",
                    PATH=f"{BIN}:{os.environ['PATH']}", **(env or {}))
    return subprocess.run(cmd, cwd=ROOT, env=full_env, capture_output=True, text=True, timeout=timeout)


def playbook(name: str, inventory: Path | str, *extra: str, **kw) -> subprocess.CompletedProcess:
    return run(str(BIN / "ansible-playbook"), f"playbooks/{name}.yml", "-i", str(inventory), *extra, **kw)


def cluster_containers(cluster: str) -> list[str]:
    """Names of the containers on this machine's engine labelled as the given cluster's."""
    out = subprocess.run(["docker", "ps", "-a", "--filter", f"label={LABEL_CLUSTER}={cluster}",
                          "--format", "{{.Names}}"], capture_output=True, text=True, check=True)
    return out.stdout.split()


def write_inventory(path: Path, inventory: dict) -> Path:
    path.write_text(json.dumps(inventory))  # JSON is YAML, and an inventory plugin reads it
    return path


@pytest.fixture
def inventory_file(tmp_path):
    def make(inventory: dict) -> Path:
        return write_inventory(tmp_path / "hosts.yml", inventory)
    return make
