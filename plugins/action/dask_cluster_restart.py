"""Action plugin adhoc.dask_cluster.dask_cluster_restart: restart a cluster's containers on a machine, its workers
retired first, in one run of the small program plugin_utils/machine_action.py sends (no module packaging)."""
from __future__ import annotations

from ansible_collections.adhoc.dask_cluster.plugins.plugin_utils.machine_action import (
    CLUSTER_CONTAINERS_SPEC, RETIRE_SPEC, MachineProgramAction)

ARGUMENT_SPEC = {
    **CLUSTER_CONTAINERS_SPEC,
    "stop_timeout": {"type": "int", "default": 10},
    "retire": RETIRE_SPEC,
    "rejoin": {"type": "dict", "options": {"argv": {"type": "list", "elements": "str", "required": True},
                                           "label_workers": {"type": "str", "required": True},
                                           "timeout": {"type": "int", "default": 120}}},
}


class ActionModule(MachineProgramAction):
    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        return {**result, **self.run_job("cluster_restart", ARGUMENT_SPEC, task_vars)}
