#!/usr/bin/env python3
"""Benchmark (issue 4): how long until N lab machines that lack the cluster's image all hold it.

Measured in the same run, on the same fresh machines, medians of --reps:
- baseline: the plain way, one machine after another: `ssh HOST docker load < ARCHIVE`;
- collection: the `image` step of up.yml in archive mode (copy with checksum, at most
  dask_image_transfer_concurrency machines at a time, load, clean up, identity check).
Writes bench/results/image_distribution.md.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import lab

ROOT = lab.ROOT
IMAGE = "adhoc-test/gds-standin:ci"
ARCHIVE = lab.IMAGES / "gds-standin.tar"
RESULTS = Path(__file__).resolve().parent / "results"
PLAYBOOK = """---
- name: Put the cluster's one image on every machine, as up.yml does
  hosts: dask_scheduler:dask_workers
  gather_facts: false
  tasks:
    - name: Pull or copy the image as dask_image_source says
      ansible.builtin.include_role:
        name: adhoc.dask_cluster.dask
        tasks_from: image
"""


def forget_image(n: int) -> None:
    for i in range(n):
        lab.ssh(i, f"docker rmi -f {IMAGE} >/dev/null 2>&1 || true")


def baseline(n: int) -> float:
    started = time.monotonic()
    for i in range(n):
        with ARCHIVE.open("rb") as tar:
            lab.ssh(i, "docker load -q >/dev/null", stdin=tar)
    return time.monotonic() - started


def collection(n: int, workdir: Path, concurrency: int) -> float:
    inventory = lab.inventory(n, workdir / "hosts.yml", {
        "dask_image": IMAGE, "dask_image_source": "archive", "dask_image_archive": str(ARCHIVE),
        "dask_image_transfer_concurrency": concurrency})
    playbook = workdir / "image.yml"
    playbook.write_text(PLAYBOOK)
    env = dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"))
    started = time.monotonic()
    subprocess.run([str(Path(sys.executable).parent / "ansible-playbook"), "-i", str(inventory), str(playbook)],
                   check=True, capture_output=True, env=env, cwd=ROOT)
    return time.monotonic() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--machines", type=int, nargs="+", default=[3, 6])
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--concurrency", type=int, default=4)
    args = parser.parse_args()
    size_mb = ARCHIVE.stat().st_size / 2**20
    rows = []
    for n in args.machines:
        with lab.lab(n), tempfile.TemporaryDirectory() as tmp:
            times = {"baseline": [], "collection": []}
            for _ in range(args.reps):
                forget_image(n)
                times["baseline"].append(baseline(n))
                forget_image(n)
                times["collection"].append(collection(n, Path(tmp), args.concurrency))
            medians = {k: statistics.median(v) for k, v in times.items()}
            rows.append((n, medians["baseline"], medians["collection"], medians["collection"] / medians["baseline"]))
            print(json.dumps({"machines": n, **times}), flush=True)
    RESULTS.mkdir(exist_ok=True)
    lines = [f"# Image distribution: archive of {size_mb:.0f} MiB to N machines that lack it",
             "", f"{os.cpu_count()} cores; medians of {args.reps}; lab hosts are containers on one machine "
             f"(transfers share its disk and cores); dask_image_transfer_concurrency={args.concurrency}.", "",
             "| machines | serial `ssh HOST docker load` | up.yml image step (archive) | ratio |",
             "|---|---|---|---|"]
    lines += [f"| {n} | {b:.1f} s | {c:.1f} s | {r:.2f}x |" for n, b, c, r in rows]
    (RESULTS / "image_distribution.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
