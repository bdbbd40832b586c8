"""Action plugin adhoc.dask_cluster.dask_machine_info: a machine's engine info, containers and images, one read.

up.yml's first contact with each machine. community.docker.docker_host_info returns the same objects, but as a
module it costs a Python start and its imports on the machine; this read imports the standard library only.
"""
from __future__ import annotations

from ansible_collections.adhoc.dask_cluster.plugins.plugin_utils.machine_action import MachineProgramAction

ARGUMENT_SPEC = {
    "image": {"type": "str"}, "paths": {"type": "dict", "default": {}}, "root": {"type": "str"},
    "secrets_group": {"type": "str"}, "secrets_paths": {"type": "list", "elements": "str", "default": []},
    "digests": {"type": "list", "elements": "str", "default": []},
    "inspect_label": {"type": "str"},
}


class ActionModule(MachineProgramAction):
    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        args = self.validate_argument_spec(argument_spec=ARGUMENT_SPEC)[1]
        return {**result, **self.run_remote("machine_info", args, task_vars)}
