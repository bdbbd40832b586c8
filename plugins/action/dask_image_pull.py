"""Action of adhoc.dask_cluster.dask_image_pull: run the pull in the background and show its progress.

A module reports only when it ends, and a 16 GB pull takes minutes. So the module runs as an async job
(Ansible's own async wrapper), writes a progress summary into a file on the target, and this action reads that
file every progress_interval seconds and prints one line per machine until the job is done.
"""
from __future__ import annotations

import json
import time

from ansible.errors import AnsibleActionFail
from ansible.plugins.action import ActionBase
from ansible.utils.display import Display

from ansible_collections.adhoc.dask_cluster.plugins.plugin_utils.progress import human

MODULE = "adhoc.dask_cluster.dask_image_pull"
TIMEOUT = 6 * 3600  # seconds a pull may run: a 16 GB image over a slow lab link still fits

display = Display()


def progress_line(host: str, what: str, progress: dict) -> str:
    known, done = progress.get("bytes_known", 0), progress.get("bytes_done", 0)
    if not progress.get("layers"):
        return f"{host}: {what}: asking the registry"
    percent = f" ({100 * done / known:.0f} %)" if known else ""
    return (f"{host}: {what}: {progress.get('layers_done', 0)} of {progress.get('layers', 0)} layers, "
            f"{human(done)} of {human(known)}{percent}")


class ActionModule(ActionBase):
    _supports_check_mode = True

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        del tmp
        args = dict(self._task.args)
        if self._task.check_mode or args.get("resolve"):  # only reads: nothing to wait for
            return {**result, **self._execute_module(MODULE, module_args=args, task_vars=task_vars)}

        tmpdir = self._make_tmp_path()
        args["progress_file"] = self._connection._shell.join_path(tmpdir, "progress.json")
        interval = float(args.get("progress_interval", 3))
        host = task_vars.get("inventory_hostname", "?")
        try:
            self._task.async_val = TIMEOUT
            job = self._execute_module(MODULE, module_args=args, task_vars=task_vars, wrap_async=True)
            if job.get("failed") or "ansible_job_id" not in job:
                return {**result, **job}
            outcome = self._wait(job["ansible_job_id"], args["progress_file"], interval, host, args["name"],
                                 task_vars)
        finally:
            self._task.async_val = 0
            self._remove_tmp_path(tmpdir, force=True)
        for key in ("ansible_job_id", "started", "finished", "results_file", "stdout", "stderr",
                    "stdout_lines", "stderr_lines"):
            outcome.pop(key, None)
        return {**result, **outcome}

    def _wait(self, jid: str, progress_file: str, interval: float, host: str, reference: str, task_vars):
        async_dir = self._remote_expand_user(self.get_shell_option("async_dir", default="~/.ansible_async"))
        status_args = {"jid": jid, "_async_dir": async_dir}
        shown, pause = None, 0.25  # a pull with nothing to do ends at once: look soon, then every interval
        while True:
            time.sleep(pause)
            pause = interval
            status = self._execute_module("ansible.legacy.async_status", module_args=status_args,
                                          task_vars=task_vars)
            if status.get("finished") or status.get("failed"):
                self._execute_module("ansible.legacy.async_status", module_args={**status_args, "mode": "cleanup"},
                                     task_vars=task_vars)
                return status
            read = self._low_level_execute_command(f"cat {self._connection._shell.quote(progress_file)}")
            try:
                progress = json.loads(read["stdout"])
            except ValueError:
                continue  # the engine has not started sending layers yet
            line = progress_line(host, f"pulling {reference}", progress)
            if line != shown:
                display.display(line)
                shown = line
            if status.get("started") is False:
                raise AnsibleActionFail(f"The pull of {reference} on {host} did not start: {status}")
