"""Action plugin adhoc.dask_cluster.dask_machine_info: a machine's engine info, containers and images, one read.

up.yml's first contact with each machine. community.docker.docker_host_info returns the same objects, but as a
module it costs a Python start and its imports on the machine; this read imports the standard library only.
With `group`, a machine that answered joins that in-memory group as ansible.builtin.group_by would put it: the
result carries the same `add_group`/`parent_groups` keys, which the strategy applies whatever the action (core's
behaviour rather than a documented interface: should it change, no machine is grouped and up.yml stops at "the
scheduler's machine does not answer", which every test would show). A group_by task after it would cost another
fork per machine.
"""
from __future__ import annotations

from ansible_collections.adhoc.dask_cluster.plugins.plugin_utils.machine_action import MachineProgramAction


class ActionModule(MachineProgramAction):
    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        args = self.validate_argument_spec(argument_spec={
            "image": {"type": "str"}, "group": {"type": "str"}, "paths": {"type": "dict", "default": {}},
            "root": {"type": "str"}, "secrets_group": {"type": "str"},
            "secrets_paths": {"type": "list", "elements": "str", "default": []}})[1]
        params = {key: args[key] for key in ("image", "paths", "root", "secrets_group", "secrets_paths")}
        result.update(self.run_remote("machine_info", params, task_vars))
        if args["group"] and not result.get("failed") and not result.get("unreachable"):
            result.update(add_group=args["group"], parent_groups=["all"])
        return result
