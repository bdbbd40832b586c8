"""The floors the collection states are floors that run. In a venv of their own (.cache/floor), ansible-core at
meta/runtime.yml's lower bound and the collections at requirements.yml's (tools/install_collections.py
--floor) run the unit tests, a syntax check of every playbook and a check-mode run of up.yml on this machine.
CI runs everything else at the pins (requirements.txt, the bundle of install_collections.py); between the two,
each end of the stated ranges has run. galaxy.yml, requirements.yml and meta/runtime.yml must agree."""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys

import pytest
import yaml
from conftest import ROOT, STANDIN_IMAGE, cluster_containers

FLOOR = ROOT / ".cache" / "floor"
VENV = FLOOR / "venv"
CLUSTER = "floortest"


def requires_ansible() -> str:
    return yaml.safe_load((ROOT / "meta" / "runtime.yml").read_text())["requires_ansible"]


def core_floor() -> str:
    found = re.fullmatch(r">=(\d+\.\d+\.\d+)", requires_ansible())
    assert found, f"meta/runtime.yml: requires_ansible {requires_ansible()!r} is not >=X.Y.Z"
    return found[1]


def pins(path: str) -> list[str]:
    lines = (ROOT / path).read_text().splitlines()
    return [line for line in lines if line and not line.startswith(("#", "-r"))]


# What tests/unit needs of requirements-test.txt (its pins), without the end-to-end tools and the test client.
UNIT_TEST_PACKAGES = ("pytest", "pytest-xdist", "trustme")


def floor_packages() -> list[str]:
    """requirements.txt with ansible-core at the floor, and what the unit tests need of requirements-test.txt."""
    controller = [p for p in pins("requirements.txt") if not p.startswith("ansible-core")]
    unit = [p for p in pins("requirements-test.txt") if p.split("==")[0] in UNIT_TEST_PACKAGES]
    assert len(unit) == len(UNIT_TEST_PACKAGES), unit
    return [f"ansible-core=={core_floor()}", *controller, *unit]


def test_galaxy_yml_and_requirements_yml_state_the_same_ranges():
    galaxy = yaml.safe_load((ROOT / "galaxy.yml").read_text())["dependencies"]
    required = {c["name"]: c["version"]
                for c in yaml.safe_load((ROOT / "requirements.yml").read_text())["collections"]}
    assert galaxy == {name: required.get(name) for name in galaxy}


def test_the_pinned_ansible_core_is_within_requires_ansible():
    pinned = next(p for p in pins("requirements.txt") if p.startswith("ansible-core=="))
    assert tuple(map(int, pinned.split("==")[1].split("."))) >= tuple(map(int, core_floor().split(".")))


@pytest.fixture(scope="module")
def floor_env() -> dict[str, str]:
    """The venv (rebuilt when what it should hold changed) and the collections at their floors."""
    wanted = "\n".join(floor_packages())
    stamp = VENV / "floor.txt"
    if not stamp.exists() or stamp.read_text() != wanted:
        subprocess.run([sys.executable, "-m", "venv", "--clear", str(VENV)], check=True)
        subprocess.run([str(VENV / "bin" / "pip"), "install", "-q", *floor_packages()], check=True,
                       capture_output=True, text=True)
        stamp.write_text(wanted)
    subprocess.run([sys.executable, str(ROOT / "tools" / "install_collections.py"), "--floor"], check=True,
                   capture_output=True, text=True)
    return dict(os.environ, PATH=f"{VENV / 'bin'}:{os.environ['PATH']}", ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"),
                ANSIBLE_COLLECTIONS_PATH=str(FLOOR / "collections"), ANSIBLE_FORCE_COLOR="0")


def floor_run(env: dict[str, str], *cmd: str, timeout: float = 600) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout)


def test_the_floor_runs_the_floor_versions(floor_env):
    required = yaml.safe_load((ROOT / "requirements.yml").read_text())["collections"]
    installed = {}
    for manifest in (FLOOR / "collections" / "ansible_collections").glob("*/*/MANIFEST.json"):
        info = json.loads(manifest.read_text())["collection_info"]
        installed[f"{info['namespace']}.{info['name']}"] = info["version"]
    expected = {c["name"]: c["version"].split(",")[0].removeprefix(">=") for c in required if c["name"] in installed}
    assert "community.docker" in expected, installed
    assert {name: installed[name] for name in expected} == expected
    version = floor_run(floor_env, "ansible", "--version").stdout
    assert f"[core {core_floor()}]" in version, version


def test_the_unit_tests_pass_at_the_floors(floor_env):
    result = floor_run(floor_env, str(VENV / "bin" / "python"), "-m", "pytest", "-q", "-p", "no:cacheprovider",
                       "tests/unit")
    assert result.returncode == 0, result.stdout[-5000:] + result.stderr[-2000:]


def test_every_playbook_passes_the_syntax_check_at_the_floors(floor_env):
    playbooks = sorted(str(p.relative_to(ROOT)) for p in (ROOT / "playbooks").glob("*.yml"))
    result = floor_run(floor_env, "ansible-playbook", "--syntax-check", "-i", "inventories/local", *playbooks)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]


def test_a_check_run_of_up_on_this_machine_passes_at_the_floors(floor_env, tmp_path):
    settings = {"dask_cluster_name": CLUSTER, "dask_image": STANDIN_IMAGE, "dask_image_pull": "never",
                "dask_scheduler_host": "127.0.0.1", "dask_scheduler_port": 37786, "dask_dashboard_port": 37787,
                "dask_jupyter_port": 37888, "dask_cluster_output_dir": str(tmp_path)}
    result = floor_run(floor_env, "ansible-playbook", "playbooks/up.yml", "-i", "inventories/local", "--check",
                       "-e", json.dumps(settings), timeout=300)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-5000:]
    assert re.search(r"TASK \[[^]]*scheduler container[^]]*\][^\n]*\nchanged", output, re.I), output[-5000:]
    assert cluster_containers(CLUSTER) == []
