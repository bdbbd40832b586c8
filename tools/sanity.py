#!/usr/bin/env python3
"""Run `ansible-test sanity` on the collection as it ships, from a plain checkout, with no network but PyPI.

ansible-test works only on a collection at a path ending in ansible_collections/<namespace>/<name>, so this
copies the checkout's files there, in a temporary directory: those `ansible-galaxy collection build` would
ship (galaxy.yml's build_ignore left out: the tools, benchmarks and end-to-end tests are not the collection,
and ansible-test's rules are for collection content), plus tests/sanity/ (the ignore file). The collections of
requirements.yml (from .collections, as `make setup` installs them) sit beside it, so that the modules' and
plugins' imports and documentation fragments from community.docker resolve as they do on a controller.

ansible-test keeps a virtual environment per sanity test, each with the packages it pins, under
~/.ansible/test/. HOME points into .cache/ansible-test/ for it here, so that those are the checkout's own and
`make clean` removes them. ansible-test seeds pip into each environment with a get-pip script from
ci-files.testing.ansible.com, which a machine that reaches PyPI alone cannot download; in its place this
writes a script of the same interface that installs pip from PyPI's pip wheel.

`python tools/sanity.py` runs every sanity test; `--prime` only makes the environments (make test-setup does,
so that `make test` needs no download); other arguments go to `ansible-test sanity` as they are (`--test pep8`).
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
COLLECTIONS = ROOT / ".collections" / "ansible_collections"
HOME = ROOT / ".cache" / "ansible-test"
ANSIBLE_TEST = Path(sys.executable).parent / "ansible-test"
# The pip ansible-test 2.19 seeds its environments with (get_venv_packages in its python_requirements.py).
PIP = "24.2"
GET_PIP = '''\
"""get-pip for ansible-test: install what the command line names with pip run from its wheel."""
import sys

sys.path.insert(0, {wheel!r})
from pip._internal.cli.main import main  # noqa: E402

# get-pip's own options: this pip installs exactly the packages it is given.
arguments = [argument for argument in sys.argv[1:] if argument not in ("--no-setuptools", "--no-wheel")]
sys.exit(main(["install", "--upgrade", "--force-reinstall", "--find-links", {wheels!r}, *arguments]))
'''


def shipped_files() -> list[str]:
    """The checkout's files (tracked or new, not ignored) that a collection build ships, and tests/sanity/."""
    listed = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"], cwd=ROOT,
                            capture_output=True, text=True, check=True).stdout.split("\0")
    ignored = yaml.safe_load((ROOT / "galaxy.yml").read_text()).get("build_ignore") or []
    return [path for path in listed
            if path and (ROOT / path).is_file()
            and (path.startswith("tests/sanity/") or not any(path == i or path.startswith(i + "/") for i in ignored))]


def collection_tree(base: Path) -> Path:
    """base/ansible_collections/adhoc/dask_cluster with the shipped files, the dependencies linked beside it."""
    galaxy = yaml.safe_load((ROOT / "galaxy.yml").read_text())
    target = base / "ansible_collections" / galaxy["namespace"] / galaxy["name"]
    for path in shipped_files():
        (target / path).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / path, target / path)
    for name in yaml.safe_load((ROOT / "requirements.yml").read_text())["collections"]:
        namespace, collection = name["name"].split(".")
        source = COLLECTIONS / namespace / collection
        if not source.is_dir():
            sys.exit(f"sanity: {source} is missing: run `make setup`")
        (base / "ansible_collections" / namespace).mkdir(exist_ok=True)
        (base / "ansible_collections" / namespace / collection).symlink_to(source, target_is_directory=True)
    return target


def pip_bootstrap() -> None:
    """The get-pip script ansible-test looks for in its cache, made from PyPI's pip wheel."""
    cache = HOME / ".ansible" / "test" / "cache"
    script = cache / f"get_pip_{PIP.replace('.', '_')}.py"
    wheels = HOME / "wheels"
    if script.exists() and any(wheels.glob(f"pip-{PIP}-*.whl")):
        return
    subprocess.run([sys.executable, "-m", "pip", "download", "-q", "--no-deps", "--only-binary=:all:",
                    "-d", str(wheels), f"pip=={PIP}"], check=True)
    wheel = next(wheels.glob(f"pip-{PIP}-*.whl"))
    cache.mkdir(parents=True, exist_ok=True)
    script.write_text(GET_PIP.format(wheel=str(wheel), wheels=str(wheels)))


def sanity(*arguments: str) -> int:
    pip_bootstrap()
    python = f"{sys.version_info.major}.{sys.version_info.minor}"
    with tempfile.TemporaryDirectory(prefix="dask-cluster-sanity-") as base:
        target = collection_tree(Path(base))
        # The checkout's ansible.cfg and collections path are for playbooks; ansible-test sets up its own.
        env = {key: value for key, value in os.environ.items() if not key.startswith("ANSIBLE_")}
        env.update(HOME=str(HOME), PATH=f"{ANSIBLE_TEST.parent}{os.pathsep}{os.environ.get('PATH', '')}")
        return subprocess.run([str(ANSIBLE_TEST), "sanity", "--local", "--python", python, "--color", "no",
                               *arguments], cwd=target, env=env, check=False).returncode


def main() -> None:
    arguments = sys.argv[1:]
    if arguments == ["--prime"]:
        arguments = ["--prime-venvs"]
    sys.exit(sanity(*arguments))


if __name__ == "__main__":
    main()
