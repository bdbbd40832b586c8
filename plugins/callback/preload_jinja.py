"""Callback plugin adhoc.dask_cluster.preload_jinja: load the Jinja plugins once, before the per-machine forks.

Ansible runs every task of every machine in a fresh fork of the controller. A fork that meets its first filter
or test loads the Jinja plugins again: it scans the plugin paths, imports the builtin filter and test files and
wraps every plugin in them, then imports the collection's own plugin files: a large share of a re-run's
controller CPU (docs/architecture.md). Callbacks run in the controller process, so loading the plugins when
the playbook starts lets every fork inherit them. It prints nothing.
"""
from __future__ import annotations

DOCUMENTATION = r"""
name: preload_jinja
type: aggregate
short_description: Load the Jinja filter and test plugins once in the controller, before the per-machine forks
description:
  - When a playbook starts, loads the builtin filter and test plugins and this collection's in the controller
    process, so that the fork Ansible makes for every machine and task inherits them instead of loading them
    again.
  - It prints nothing and changes no task's behaviour. Enable it with C(callbacks_enabled =
    adhoc.dask_cluster.preload_jinja) in ansible.cfg, as this collection's own ansible.cfg does.
version_added: 0.6.0
author: adhoc.dask_cluster contributors (!UNKNOWN)
requirements:
  - enabled in callbacks_enabled
"""

import importlib
import pkgutil

from ansible.plugins.callback import CallbackBase
from ansible.plugins.loader import filter_loader, test_loader

# This collection's filter and test packages: their modules are imported with everything they import.
_COLLECTION_PACKAGES = (
    "ansible_collections.adhoc.dask_cluster.plugins.filter",
    "ansible_collections.adhoc.dask_cluster.plugins.test",
)


def load_jinja_plugins() -> None:
    """Load the builtin filter and test plugins and import this collection's."""
    for loader in (filter_loader, test_loader):
        for _plugin in loader.all():  # wraps every builtin (and legacy) Jinja plugin once
            pass
    for name in _COLLECTION_PACKAGES:
        package = importlib.import_module(name)
        for module in pkgutil.iter_modules(package.__path__):
            importlib.import_module(f"{name}.{module.name}")


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "adhoc.dask_cluster.preload_jinja"
    CALLBACK_NEEDS_ENABLED = True

    def v2_playbook_on_start(self, playbook):
        load_jinja_plugins()
