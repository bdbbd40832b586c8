"""Strategy plugin adhoc.dask_cluster.linear: ansible.builtin.linear, with the Jinja plugins loaded once.

Ansible runs every task of every machine in a fresh fork of the controller. A fork that meets its first filter
or test loads the Jinja plugins again: it scans the plugin paths, imports the builtin filter and test files and
wraps every plugin in them, then imports the collection's own plugin files. Measured on a re-run of up.yml at
eight machines, that was about 15 % of the controller's CPU (a few tens of milliseconds in every fork). Loading
them once in the controller before the first fork lets every fork inherit them. Everything else is linear's.
"""
from __future__ import annotations

DOCUMENTATION = r"""
name: linear
short_description: ansible.builtin.linear, with the Jinja plugins loaded once before the per-machine forks
description:
  - Runs tasks exactly as ansible.builtin.linear does (every machine finishes a task before the next task
    starts).
  - Before the first task, it loads the filter and test plugins (builtin, and this collection's) in the
    controller process, so that the fork Ansible makes for every machine and task inherits them instead of
    loading them again. The playbooks of adhoc.dask_cluster set it on their plays.
version_added: 0.5.0
author: adhoc.dask_cluster contributors
"""

import importlib
import pkgutil

from ansible.plugins.loader import filter_loader, test_loader
from ansible.plugins.strategy.linear import StrategyModule as LinearStrategyModule

# This collection's filter and test packages: their modules are imported with everything they import.
_COLLECTION_PACKAGES = (
    "ansible_collections.adhoc.dask_cluster.plugins.filter",
    "ansible_collections.adhoc.dask_cluster.plugins.test",
)
_loaded = False


def load_jinja_plugins() -> None:
    """Load the builtin filter and test plugins and import this collection's, once per process."""
    global _loaded
    if _loaded:
        return
    for loader in (filter_loader, test_loader):
        for _plugin in loader.all():  # wraps every builtin (and legacy) Jinja plugin once
            pass
    for name in _COLLECTION_PACKAGES:
        package = importlib.import_module(name)
        for module in pkgutil.iter_modules(package.__path__):
            importlib.import_module(f"{name}.{module.name}")
    _loaded = True


class StrategyModule(LinearStrategyModule):
    def run(self, iterator, play_context):
        load_jinja_plugins()
        return super().run(iterator, play_context)
