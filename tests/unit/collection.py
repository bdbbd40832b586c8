"""The collection's Python files imported by the names Ansible gives them (ansible_collections.adhoc.dask_cluster.*),
so that their imports of each other resolve as on a controller; and a collections path holding the checkout, for
the tests that run ansible-playbook."""
from __future__ import annotations

import importlib
import sys
import types
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = "ansible_collections.adhoc.dask_cluster"


def _register_packages() -> None:
    """ansible_collections.adhoc.dask_cluster as a package whose directory is the checkout, as Ansible's collection
    loader maps it; plugins/ and its folders are namespace packages below it. The other collections come from
    .collections when `make setup` has put them there."""
    parent = ""
    installed = [str(ROOT / ".collections" / "ansible_collections")]
    for part, path in (("ansible_collections", installed), ("adhoc", []), ("dask_cluster", [str(ROOT)])):
        name = f"{parent}.{part}" if parent else part
        if name not in sys.modules:
            package = types.ModuleType(name)
            package.__path__ = path
            sys.modules[name] = package
        parent = name


def plugin(kind: str, name: str) -> types.ModuleType:
    """plugins/<kind>/<name>.py, such as plugin("filter", "dask_paths")."""
    _register_packages()
    return importlib.import_module(f"{PACKAGE}.plugins.{kind}.{name}")


def collections_path(directory: Path) -> Path:
    """directory/ansible_collections/adhoc/dask_cluster, a link to the checkout; returns directory."""
    link = directory / "ansible_collections" / "adhoc" / "dask_cluster"
    link.parent.mkdir(parents=True, exist_ok=True)
    link.symlink_to(ROOT, target_is_directory=True)
    return directory
