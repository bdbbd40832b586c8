"""Action plugin adhoc.dask_cluster.dask_machine_info: a machine's engine info, containers and images, one read.

up.yml's first contact with each machine. community.docker.docker_host_info returns the same objects, but as a
module it costs a Python start and its imports (about 0.65 s of CPU per machine); this read costs about a tenth.
"""
from __future__ import annotations

from ansible_collections.adhoc.dask_cluster.plugins.plugin_utils.machine_action import MachineProgramAction


class ActionModule(MachineProgramAction):
    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        _, args = self.validate_argument_spec(argument_spec={"image": {"type": "str"}})
        return {**result, **self.run_remote("machine_info", {"image": args["image"]}, task_vars)}
