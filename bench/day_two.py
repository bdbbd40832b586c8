"""What the day-two playbooks cost at N machines, against a re-run of up.yml and against doing the same by hand,
on the same lab, in the same run.

    .venv/bin/python bench/day_two.py --sizes 8 --reps 3

One cluster is brought up on lab machines that hold the image (plain tcp, as in bench/up_down.py). Then, each
repetition, once every container is healthy, in turn: up.yml again (the re-run, the yardstick), status.yml,
logs.yml and restart.yml (every worker machine, one at a time, workers retired first); and by hand, over plain
ssh to every machine at once: `docker ps` of the cluster's containers (a glance, not a status), `docker logs`
of each into a file, and `docker restart` of every worker container (no retirement: results are lost).
Medians, and each playbook's ratio to the up.yml re-run, go to bench/results/day_two.md.
"""
from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import lab
from up_down import IMAGE, playbook, ssh_all, wait_until_healthy

PLAYBOOKS = ("up.yml", "status.yml", "logs.yml", "restart.yml")
LISTING = "sudo docker ps -a --filter label=io.github.adhoc.dask_cluster.cluster=dask --format '{{.Names}}'"
BY_HAND = {
    "docker ps": LISTING,
    "docker logs": f"for c in $({LISTING}); do sudo docker logs --timestamps $c > /tmp/$c.log 2>&1; done",
    # The scheduler's machine may run no worker.
    "docker restart": "for c in $(sudo docker ps -q --filter name=^dask-worker$); do sudo docker restart $c; done",
}


def timed(run) -> float:
    started = time.monotonic()
    run()
    return time.monotonic() - started


def measure(n: int, reps: int, workdir: Path) -> dict:
    times = {step: [] for step in PLAYBOOKS + tuple(BY_HAND)}
    with lab.lab(n):
        ssh_all(n, lambda i: "sudo docker load -q -i /images/gds-standin.tar >/dev/null")
        inventory = lab.inventory(n, workdir / f"hosts-{n}.yml", {
            "dask_image": IMAGE, "dask_image_pull": "never", "dask_tls_enabled": False,
            "dask_cluster_output_dir": str(workdir / f"dask-{n}")})
        playbook("up.yml", inventory)
        for rep in range(reps):
            for name in PLAYBOOKS:
                wait_until_healthy(n)
                times[name].append(playbook(name, inventory)[0])
            for step, command in BY_HAND.items():
                wait_until_healthy(n)
                times[step].append(timed(lambda: ssh_all(n, lambda i: command)))
            print(f"N={n} rep {rep + 1}: " + ", ".join(f"{step} {values[-1]:.1f}s" for step, values in times.items()),
                  flush=True)
        playbook("down.yml", inventory)
    return {"n": n, "times": {step: statistics.median(values) for step, values in times.items()}}


def write_results(results: list[dict], reps: int) -> Path:
    lines = ["# The day-two playbooks against a re-run of up.yml and against doing it by hand", "",
             f"Measured {time.strftime('%Y-%m-%d')} by bench/day_two.py on this machine's lab, medians of {reps}, "
             "seconds; ratios to the up.yml re-run of the same run.", "",
             "| N | up.yml re-run | status.yml | logs.yml | restart.yml | docker ps | docker logs | docker restart |",
             "|---|---|---|---|---|---|---|---|"]
    for result in results:
        t = result["times"]
        rerun = t["up.yml"]
        lines.append(f"| {result['n']} | {rerun:.1f} | "
                     + " | ".join(f"{t[name]:.1f} ({t[name] / rerun:.2f}x)" for name in PLAYBOOKS[1:]) + " | "
                     + " | ".join(f"{t[step]:.1f}" for step in BY_HAND) + " |")
    return lab.write_results("day_two.md", lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[8])
    parser.add_argument("--reps", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-day-two-") as tmp:
        results = [measure(n, args.reps, Path(tmp)) for n in args.sizes]
    print(write_results(results, args.reps).read_text())


if __name__ == "__main__":
    main()
