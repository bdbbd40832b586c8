"""Action plugin adhoc.dask_cluster.dask_container_exec: run a command in a running container, one round trip.

The command runs through the engine's socket from the small program plugin_utils/machine_action.py sends, so
the machine starts no module (community.docker.docker_container_exec would start Python and compile the
module's code there on every run).
"""
from __future__ import annotations

from ansible_collections.adhoc.dask_cluster.plugins.plugin_utils.machine_action import MachineProgramAction

ARGUMENT_SPEC = {
    "container": {"type": "str", "required": True},
    "argv": {"type": "list", "elements": "str", "required": True},
    "timeout": {"type": "int", "default": 300},
}


class ActionModule(MachineProgramAction):
    # A command may change anything: check mode skips the task, as for ansible.builtin.command.
    _supports_check_mode = False

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        args = self.validate_argument_spec(argument_spec=ARGUMENT_SPEC)[1]
        answer = self.run_remote("container_exec", args, task_vars)
        if "rc" in answer and answer["rc"] != 0:
            output = (answer["stderr"] or answer["stdout"]).strip()[-2000:]
            answer.update(failed=True,
                          msg=f"{args['argv'][0]} in {args['container']} exited with {answer['rc']}: {output}")
        return {**result, **answer}
