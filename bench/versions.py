"""up.yml and down.yml of another commit against this checkout's, on the same lab, in the same run.

    .venv/bin/python bench/versions.py --base 5ab4a5e --sizes 3 8 --reps 3

The base commit is checked out in a temporary git worktree, with a collections path of its own that points
adhoc.dask_cluster at it (the other collections are this checkout's). For each N and each repetition, each
version in turn (the order alternating between repetitions) brings the cluster up on lab machines that hold the
image (cold), runs up.yml again once every container is healthy (re-run) and takes it down (down.yml); the
lab is the same for both. Medians, and this checkout's ratio to the base, go to bench/results/versions.md,
with each play's median time (the callback bench/callback_plugins/play_times.py) to show where a difference lies.
"""
from __future__ import annotations

import argparse
import configparser
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

import lab
from up_down import IMAGE, ssh_all, wait_until_healthy

ROOT = lab.ROOT
ANSIBLE_PLAYBOOK = str(Path(sys.executable).parent / "ansible-playbook")
STEPS = ("up cold", "up re-run", "down")


def worktree(base: str, into: Path) -> Path:
    """The base commit's tree, and a collections path in which adhoc.dask_cluster is that tree, beside this
    checkout's other collections and any other its requirements.yml names (0.7.0 issued certificates with
    community.crypto), taken from the `ansible` bundle."""
    tree = into / "base"
    subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", str(tree), base], check=True,
                   capture_output=True)
    collections = into / "collections" / "ansible_collections"
    (collections / "adhoc").mkdir(parents=True)
    (collections / "adhoc" / "dask_cluster").symlink_to(tree)
    for namespace in (ROOT / ".collections" / "ansible_collections").iterdir():
        if namespace.name != "adhoc":
            (collections / namespace.name).mkdir()
            for collection in namespace.iterdir():
                (collections / namespace.name / collection.name).symlink_to(collection)
    wanted = yaml.safe_load((tree / "requirements.yml").read_text()).get("collections") or []
    for name in (entry["name"] if isinstance(entry, dict) else entry for entry in wanted):
        if not (collections / name.replace(".", "/")).exists():
            lab.bundled_collection(name, collections.parent)
    return tree


def playbook(tree: Path, collections: Path, name: str, inventory: Path, play_times: Path) -> float:
    """Runs the playbook of that tree; its plays' times go to play_times (JSON)."""
    config = configparser.ConfigParser()
    config.read(tree / "ansible.cfg")
    callbacks = [c for c in config.get("defaults", "callbacks_enabled", fallback="").split(",") if c.strip()]
    env = dict(os.environ, ANSIBLE_CONFIG=str(tree / "ansible.cfg"), ANSIBLE_COLLECTIONS_PATH=str(collections),
               ANSIBLE_CALLBACK_PLUGINS=str(Path(__file__).parent / "callback_plugins"),
               ANSIBLE_CALLBACKS_ENABLED=",".join([*callbacks, "play_times"]), PLAY_TIMES_OUT=str(play_times))
    started = time.monotonic()
    result = subprocess.run([ANSIBLE_PLAYBOOK, "-i", str(inventory), str(tree / "playbooks" / name)], cwd=tree,
                            env=env, capture_output=True, text=True)
    seconds = time.monotonic() - started
    if result.returncode != 0:
        raise RuntimeError(f"{tree}: {name} failed:\n{(result.stdout + result.stderr)[-4000:]}")
    return seconds


def measure(n: int, reps: int, versions: dict[str, tuple[Path, Path]], workdir: Path) -> dict:
    times = {(label, step): [] for label in versions for step in STEPS}
    plays = {(label, step): [] for label in versions for step in STEPS}  # per run: {play: seconds}
    with lab.lab(n):
        ssh_all(n, lambda i: "sudo docker load -q -i /images/gds-standin.tar >/dev/null")
        for rep in range(reps):
            order = list(versions) if rep % 2 == 0 else list(reversed(versions))
            for label in order:
                tree, collections = versions[label]
                inventory = lab.inventory(n, workdir / f"hosts-{n}-{label}.yml", {
                    "dask_image": IMAGE, "dask_image_pull": "never",
                    "dask_cluster_output_dir": str(workdir / f"dask-{n}-{label}")})
                for step, name in zip(STEPS, ("up.yml", "up.yml", "down.yml")):
                    if step == "up re-run":
                        wait_until_healthy(n)
                    play_times = workdir / "play_times.json"
                    times[(label, step)].append(playbook(tree, collections, name, inventory, play_times))
                    plays[(label, step)].append(dict(json.loads(play_times.read_text())))
            print(f"N={n} rep {rep + 1}: " + ", ".join(f"{label} {step} {values[-1]:.1f}s"
                                                       for (label, step), values in times.items()), flush=True)
    return {"n": n, "times": {key: statistics.median(values) for key, values in times.items()},
            "plays": {key: {play: statistics.median(run.get(play, 0.0) for run in runs)
                            for play in dict.fromkeys(play for run in runs for play in run)}
                      for key, runs in plays.items()}}


def write_results(results: list[dict], base: str, head: str, reps: int) -> Path:
    lines = [f"# up.yml and down.yml: {head} against {base}", "",
             f"Measured {time.strftime('%Y-%m-%d')} by bench/versions.py on this machine's lab, medians of {reps}, "
             "seconds; the ratio divides this checkout's time by the base's, measured in the same run.", "",
             "| N | step | base | this checkout | ratio |", "|---|---|---|---|---|"]
    for result in results:
        for step in STEPS:
            old, new = result["times"][("base", step)], result["times"][("head", step)]
            lines.append(f"| {result['n']} | {step} | {old:.1f} | {new:.1f} | {new / old:.2f} |")
    for result in results:
        for step in STEPS[:2]:
            base_plays, head_plays = result["plays"][("base", step)], result["plays"][("head", step)]
            lines += ["", f"N={result['n']}, {step}: each play's median seconds (a play only one of them has shows "
                          "- for the other).", "", "| play | base | this checkout |", "|---|---|---|"]
            for play in dict.fromkeys([*head_plays, *base_plays]):
                cells = [f"{plays[play]:.1f}" if play in plays else "-" for plays in (base_plays, head_plays)]
                lines.append(f"| {play} | {cells[0]} | {cells[1]} |")
    return lab.write_results("versions.md", lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--base", required=True, help="the commit to compare against")
    parser.add_argument("--sizes", type=int, nargs="+", default=[3])
    parser.add_argument("--reps", type=int, default=3)
    args = parser.parse_args()
    base = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", args.base], check=True,
                          capture_output=True, text=True).stdout.strip()
    head = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], check=True,
                          capture_output=True, text=True).stdout.strip()
    with tempfile.TemporaryDirectory(prefix="bench-versions-") as tmp:
        workdir = Path(tmp)
        tree = worktree(base, workdir)
        try:
            versions = {"base": (tree, workdir / "collections"), "head": (ROOT, ROOT / ".collections")}
            results = [measure(n, args.reps, versions, workdir) for n in args.sizes]
        finally:
            subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(tree)], check=True)
    print(write_results(results, base, head, args.reps).read_text())


if __name__ == "__main__":
    main()
