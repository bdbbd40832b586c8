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


# Most of the suite's time is Molecule scenarios, which each spend about one core: `make test` runs two tests at
# a time (pytest-xdist, --dist loadgroup). A test file is one group, run by one worker from its first test to
# its last: its tests share a cluster on this machine (its own name and ports, so files may run side by side).
# Each Molecule scenario is one test on its own lab network. The longest go first, so that no long one starts
# last (test_molecule.py lists the scenarios longest first).
FIRST = ["test_molecule.py", "test_validation.py", "test_local_cluster.py"]


@pytest.hookimpl(tryfirst=True)  # before pytest-xdist's own, which reads the groups
def pytest_collection_modifyitems(items):
    for item in items:
        if item.path.name != "test_molecule.py":
            # By path: a file is its own group wherever it lies under tests/.
            item.add_marker(pytest.mark.xdist_group(item.path.relative_to(ROOT).as_posix()))
    items.sort(key=lambda item: FIRST.index(item.path.name) if item.path.name in FIRST else len(FIRST))


def pytest_xdist_node_collection_finished(node, ids):
    """pytest-xdist marks a grouped test by its node ID (test@group); a pytest release that keeps node IDs
    elsewhere (9.2.0 does) would silently run one file's tests on two workers at once, against one cluster."""
    if node.config.getvalue("dist") == "loadgroup":
        ungrouped = [nodeid for nodeid in ids if "test_molecule.py" not in nodeid and "@" not in nodeid]
        if ungrouped:
            raise pytest.UsageError(f"pytest-xdist did not group {ungrouped[0]}: use the pytest of "
                                    f"requirements-test.txt")


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
