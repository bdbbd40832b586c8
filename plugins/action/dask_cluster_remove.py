"""Action plugin adhoc.dask_cluster.dask_cluster_remove: a cluster's containers and files off a machine, one run.

The removal runs on the machine as one small program on the engine's socket (plugin_utils/machine_action.py):
teardown is a single step per machine, so a module's start-up cost would be most of it.
"""
from __future__ import annotations

from ansible_collections.adhoc.dask_cluster.plugins.plugin_utils.machine_action import (
    CLUSTER_CONTAINERS_SPEC, RETIRE_SPEC, MachineProgramAction)

ARGUMENT_SPEC = {
    **CLUSTER_CONTAINERS_SPEC,
    "root": {"type": "str", "required": True},
    "paths": {"type": "list", "elements": "str", "default": []},
    "paths_when_alone": {"type": "list", "elements": "str", "default": []},
    "graceful_roles": {"type": "list", "elements": "str", "default": ["jupyter"]},
    "stop_timeout": {"type": "int", "default": 10},
    "retire": RETIRE_SPEC,
}


class ActionModule(MachineProgramAction):
    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        return {**result, **self.run_job("cluster_remove", ARGUMENT_SPEC, task_vars)}
