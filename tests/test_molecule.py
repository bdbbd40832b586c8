"""Every Molecule scenario, in full (create, prepare, check, converge, idempotence, verify, teardown,
destroy), on lab hosts with their own Docker engines. The full log of each lands in .cache/logs/."""
from __future__ import annotations

import time

import pytest
from conftest import BIN, ROOT, run

SCENARIOS = sorted(p.parent.name for p in (ROOT / "molecule").glob("*/molecule.yml"))
LOGS = ROOT / ".cache" / "logs"


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_molecule_scenario_passes(scenario):
    LOGS.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    result = run(str(BIN / "molecule"), "test", "-s", scenario, timeout=1800)
    elapsed = time.monotonic() - started
    log = LOGS / f"molecule-{scenario}.log"
    log.write_text(result.stdout + result.stderr)
    print(f"molecule scenario {scenario}: {elapsed:.0f}s (log: {log})")
    assert result.returncode == 0, (result.stdout + result.stderr)[-20000:]
