#!/usr/bin/env python3
"""Install the collections listed in requirements.yml into .collections/, without Ansible Galaxy.

PyPI's `ansible` package bundles the community collections. Download that one wheel (no dependencies), unzip
only the collections requirements.yml names, and refuse any whose bundled version falls outside the range
requirements.yml gives. Then link this checkout in as adhoc.dask_cluster, so playbooks and Molecule resolve
`adhoc.dask_cluster.*` from a plain clone. A collection already present at an acceptable version is kept.

With --floor, the same from FLOOR_BUNDLE into .cache/floor/collections/, where each collection must be exactly
the lower bound requirements.yml states: tests/test_floors.py runs the collection there, so that every floor
requirements.yml and galaxy.yml state is one that has run.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import yaml
from packaging.specifiers import SpecifierSet
from packaging.version import Version

ROOT = Path(__file__).resolve().parent.parent
TARGET = ROOT / ".collections" / "ansible_collections"
FLOOR_TARGET = ROOT / ".cache" / "floor" / "collections" / "ansible_collections"
WHEELS = ROOT / ".cache" / "wheels"
# The bundle that carries community.docker 5.x. Its wheel is pure Python; ask for it as a Python 3.12 wheel
# so the download works from older controllers too (only files are extracted, nothing is installed).
BUNDLE = "ansible==14.5.0"
# The first release of the bundle with community.docker 5 (it carries 5.0.1; 5.0.0 would need Galaxy): its
# collections are the floors requirements.yml states.
FLOOR_BUNDLE = "ansible==13.0.0"
# Only Molecule's docker driver uses it, and Molecule runs at BUNDLE's: its floor is that version.
NOT_AT_FLOOR = {"ansible.posix"}


def wanted() -> dict[str, SpecifierSet]:
    reqs = yaml.safe_load((ROOT / "requirements.yml").read_text())
    return {c["name"]: SpecifierSet(c.get("version", "")) for c in reqs["collections"]}


def floor_of(spec: SpecifierSet) -> Version:
    """The lower bound of a range written as >=X,<Y."""
    return Version(next(s.version for s in spec if s.operator == ">="))


def installed_version(target: Path, name: str) -> Version | None:
    manifest = target.joinpath(*name.split("."), "MANIFEST.json")
    if not manifest.exists():
        return None
    return Version(json.loads(manifest.read_text())["collection_info"]["version"])


def bundle_wheel(bundle: str) -> Path:
    wheel = WHEELS / f"ansible-{bundle.split('==')[1]}-py3-none-any.whl"
    if not wheel.exists():
        WHEELS.mkdir(parents=True, exist_ok=True)
        subprocess.run([sys.executable, "-m", "pip", "download", "-q", "--no-deps", "--only-binary=:all:",
                        "--python-version", "3.12", "-d", str(WHEELS), bundle], check=True)
    return wheel


def extract(wheel: Path, target: Path, name: str, accept, refusal: str) -> str:
    prefix = "ansible_collections/" + name.replace(".", "/") + "/"
    with zipfile.ZipFile(wheel) as zf:
        manifest = json.loads(zf.read(prefix + "MANIFEST.json"))
        version = Version(manifest["collection_info"]["version"])
        if not accept(version):
            sys.exit(f"install_collections: {wheel.name} carries {name} {version}, {refusal}")
        dest = target.joinpath(*name.split("."))
        shutil.rmtree(dest, ignore_errors=True)
        for member in zf.namelist():
            if member.startswith(prefix):
                zf.extract(member, target.parent)
    return f"{name} {version}"


def link_this_checkout(target: Path) -> None:
    link = target / "adhoc" / "dask_cluster"
    link.parent.mkdir(parents=True, exist_ok=True)
    if link.is_symlink() and link.resolve() == ROOT:
        return
    if link.is_symlink() or link.exists():
        link.unlink()
    link.symlink_to(os.path.relpath(ROOT, link.parent), target_is_directory=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--floor", action="store_true", help="the floors requirements.yml states, from "
                        f"{FLOOR_BUNDLE}, into {FLOOR_TARGET.parent.relative_to(ROOT)}")
    floor = parser.parse_args().floor
    target, bundle = (FLOOR_TARGET, FLOOR_BUNDLE) if floor else (TARGET, BUNDLE)
    wheel = None
    for name, spec in wanted().items():
        if floor and name in NOT_AT_FLOOR:
            continue
        if floor:
            lowest = floor_of(spec)
            accept, refusal = (lambda v, lowest=lowest: v == lowest), (
                f"not the floor {lowest} requirements.yml states; change FLOOR_BUNDLE in "
                "tools/install_collections.py or the floor in requirements.yml and galaxy.yml")
        else:
            accept, refusal = spec.contains, (
                f"outside {spec} (requirements.yml); change BUNDLE in tools/install_collections.py")
        if accept(installed_version(target, name) or Version("0")):
            continue
        wheel = wheel or bundle_wheel(bundle)
        print("install_collections: installed", extract(wheel, target, name, accept, refusal))
    link_this_checkout(target)


if __name__ == "__main__":
    main()
