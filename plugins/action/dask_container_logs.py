"""Action plugin adhoc.dask_cluster.dask_container_logs: a cluster's container logs from a machine into files on
the controller, streamed.

The machine's program writes each log to a file of a private directory there, with the given secrets replaced
(plugin_utils/machine_program.py), and the connection Ansible holds copies each file here as `fetch` does
without become: a piece at a time, never the whole log in memory (fetch under become reads the file through a
module and sends it whole, base64-encoded). The directory on the machine is removed afterwards.
"""
from __future__ import annotations

import os
import shlex

from ansible.errors import AnsibleActionFail

from ansible_collections.adhoc.dask_cluster.plugins.plugin_utils.machine_action import (
    CLUSTER_CONTAINERS_SPEC, MachineProgramAction)

ARGUMENT_SPEC = {
    **CLUSTER_CONTAINERS_SPEC,
    "dest": {"type": "path", "required": True},
    "since": {"type": "str"},
    "tail": {"type": "str"},
    "secrets": {"type": "list", "elements": "str", "default": [], "no_log": True},
}
REMOTE_PREFIX = "/tmp/dask-cluster-logs-"


class ActionModule(MachineProgramAction):
    # It changes nothing on the machine, so check mode collects too.
    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        args = self.validate_argument_spec(argument_spec=ARGUMENT_SPEC)[1]
        dest = args.pop("dest")
        try:  # the user the connection logs in as, to whom the files on the machine are given (local: none)
            login = self._connection.get_option("remote_user")
        except KeyError:
            login = None
        answer = self.run_remote("container_logs", {**args, "login": login}, task_vars)
        if answer.get("failed"):
            return {**result, **answer}
        directory = answer.pop("directory")
        if os.path.dirname(os.path.normpath(directory)) != "/tmp" or not directory.startswith(REMOTE_PREFIX):
            raise AnsibleActionFail(f"the machine wrote the logs to {directory}, not under {REMOTE_PREFIX}")
        try:
            os.makedirs(dest, mode=0o700, exist_ok=True)
            # A container gone since the last collection leaves no stale file behind.
            for stale in os.listdir(dest):
                if stale.endswith(".log"):
                    os.remove(os.path.join(dest, stale))
            for log in answer["logs"]:
                local = os.path.join(dest, log["container"] + ".log")
                self._connection.fetch_file(log.pop("path"), local)
                log["path"] = local
        finally:
            self._low_level_execute_command(f"rm -rf -- {shlex.quote(directory)}", sudoable=True)
        return {**result, **answer, "changed": False}
