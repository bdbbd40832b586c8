"""Every Molecule scenario, in full (create, prepare, check, converge, idempotence, verify, teardown,
destroy), on lab hosts with their own Docker engines. The full log of each lands in .cache/logs/.

A scenario counts only if its verifier really ran its tests: the summary pytest prints in the verify step
must count at least one pass per test function of the files the scenario names, so that a test file renamed
out of pytest's sight, or a verifier directory pointed elsewhere, fails here instead of passing quietly."""
from __future__ import annotations

import ast
import re
import time
from pathlib import Path

import pytest
import yaml
from conftest import BIN, ROOT, run

# Every scenario, the longest first: `make test` runs two at a time (tests/conftest.py).
SCENARIOS = ["cluster", "offline", "tls", "default"]
LOGS = ROOT / ".cache" / "logs"
ANSI = re.compile(r"\x1b\[[0-9;]*m")


def verifier_files(scenario: str) -> list[Path]:
    """The test files the scenario's verifier runs: its directory's test_*.py and the additional ones."""
    folder = ROOT / "molecule" / scenario
    verifier = yaml.safe_load((folder / "molecule.yml").read_text())["verifier"]
    directory = (folder / verifier.get("directory", "tests")).resolve()
    files = sorted(directory.glob("test_*.py"))
    files += [(directory / extra).resolve() for extra in verifier.get("additional_files_or_dirs", [])]
    return files


def count_test_functions(path: Path) -> int:
    return sum(isinstance(node, ast.FunctionDef) and node.name.startswith("test_")
               for node in ast.parse(path.read_text()).body)


def test_every_scenario_is_listed():
    assert sorted(SCENARIOS) == sorted(p.parent.name for p in (ROOT / "molecule").glob("*/molecule.yml"))


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_scenario_uses_the_checkout_collection(scenario):
    """Two scenarios run side by side, so each must use the checkout's collection: Molecule's prerun installs it
    into one ~/.ansible path shared by both, where one scenario's install removes the other's files."""
    config = yaml.safe_load((ROOT / "molecule" / scenario / "molecule.yml").read_text())
    assert config["prerun"] is False
    assert config["provisioner"]["env"]["ANSIBLE_COLLECTIONS_PATH"] == "${MOLECULE_PROJECT_DIRECTORY}/.collections"
    assert (ROOT / ".collections" / "ansible_collections" / "adhoc" / "dask_cluster").resolve() == ROOT


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_molecule_scenario_passes(scenario):
    files = verifier_files(scenario)
    assert files and all(f.name.startswith("test_") and f.is_file() for f in files), files
    at_least = sum(count_test_functions(f) for f in files)
    LOGS.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    result = run(str(BIN / "molecule"), "test", "-s", scenario, timeout=1800)
    elapsed = time.monotonic() - started
    output = ANSI.sub("", result.stdout + result.stderr)
    log = LOGS / f"molecule-{scenario}.log"
    log.write_text(output)
    print(f"molecule scenario {scenario}: {elapsed:.0f}s (log: {log})")
    assert result.returncode == 0, output[-20000:]
    passed = [int(n) for n in re.findall(r"\b(\d+) passed\b", output)]
    assert passed and max(passed) >= at_least, (
        f"the verify step reports {passed or 'no'} passed tests, but {[f.name for f in files]} define "
        f"{at_least} test functions: {log}")
