#!/usr/bin/env python3
"""Install the collections listed in requirements.yml into .collections/, without Ansible Galaxy.

PyPI's `ansible` package bundles the community collections. Download that one wheel (no dependencies), unzip
only the collections requirements.yml names, and refuse any whose bundled version falls outside the range
requirements.yml gives. Then link this checkout in as adhoc.dask_cluster, so playbooks and Molecule resolve
`adhoc.dask_cluster.*` from a plain clone. A collection already present at an acceptable version is kept.
"""
from __future__ import annotations

import json
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
WHEELS = ROOT / ".cache" / "wheels"
# The bundle that carries community.docker 5.x. Its wheel is pure Python; ask for it as a Python 3.12 wheel
# so the download works from older controllers too (only files are extracted, nothing is installed).
BUNDLE = "ansible==14.5.0"


def wanted() -> dict[str, SpecifierSet]:
    reqs = yaml.safe_load((ROOT / "requirements.yml").read_text())
    return {c["name"]: SpecifierSet(c.get("version", "")) for c in reqs["collections"]}


def installed_version(name: str) -> Version | None:
    manifest = TARGET.joinpath(*name.split("."), "MANIFEST.json")
    if not manifest.exists():
        return None
    return Version(json.loads(manifest.read_text())["collection_info"]["version"])


def bundle_wheel() -> Path:
    found = sorted(WHEELS.glob("ansible-*.whl"))
    if found:
        return found[-1]
    WHEELS.mkdir(parents=True, exist_ok=True)
    subprocess.run([sys.executable, "-m", "pip", "download", "-q", "--no-deps", "--only-binary=:all:",
                    "--python-version", "3.12", "-d", str(WHEELS), BUNDLE], check=True)
    return sorted(WHEELS.glob("ansible-*.whl"))[-1]


def extract(wheel: Path, name: str, spec: SpecifierSet) -> str:
    prefix = "ansible_collections/" + name.replace(".", "/") + "/"
    with zipfile.ZipFile(wheel) as zf:
        manifest = json.loads(zf.read(prefix + "MANIFEST.json"))
        version = Version(manifest["collection_info"]["version"])
        if version not in spec:
            sys.exit(f"install_collections: {wheel.name} carries {name} {version}, outside {spec} "
                     "(requirements.yml); change BUNDLE in tools/install_collections.py")
        dest = TARGET.joinpath(*name.split("."))
        shutil.rmtree(dest, ignore_errors=True)
        for member in zf.namelist():
            if member.startswith(prefix):
                zf.extract(member, TARGET.parent)
    return f"{name} {version}"


def link_this_checkout() -> None:
    link = TARGET / "adhoc" / "dask_cluster"
    link.parent.mkdir(parents=True, exist_ok=True)
    if link.is_symlink() and link.resolve() == ROOT:
        return
    if link.is_symlink() or link.exists():
        link.unlink()
    link.symlink_to(Path("../../.."), target_is_directory=True)


def main() -> None:
    wheel = None
    for name, spec in wanted().items():
        have = installed_version(name)
        if have is not None and have in spec:
            continue
        wheel = wheel or bundle_wheel()
        print("install_collections: installed", extract(wheel, name, spec))
    link_this_checkout()


if __name__ == "__main__":
    main()
