"""Run a job of machine_program.py on the task's machine: one round trip, no module packaging.

The remote program goes to the machine's Python on stdin over the connection Ansible already holds (as
pipelining sends a module), with become applied as for any module. Its one line of JSON is the task's result.
"""
from __future__ import annotations

import json
import shlex
import typing as t
from pathlib import Path

from ansible import constants as C
from ansible.errors import AnsibleActionFail
from ansible.executor.interpreter_discovery import discover_interpreter
from ansible.plugins.action import ActionBase

REMOTE_PROGRAM = (Path(__file__).parent / "machine_program.py").read_text()
AUTO = ("auto", "auto_legacy", "auto_silent", "auto_legacy_silent")
# The arguments of the actions that find a cluster's containers of some roles by their labels.
CLUSTER_CONTAINERS_SPEC = {
    "cluster": {"type": "str", "required": True},
    "label_cluster": {"type": "str", "required": True},
    "label_role": {"type": "str", "required": True},
    "roles": {"type": "list", "elements": "str", "required": True},
}
# Retirement through the scheduler before a removal or a restart: the command and the label naming the workers.
RETIRE_SPEC = {"type": "dict", "options": {"argv": {"type": "list", "elements": "str", "required": True},
                                           "label_workers": {"type": "str", "required": True},
                                           "absent_ok": {"type": "bool", "default": False},
                                           "instead": {"type": "str"}}}


class MachineProgramAction(ActionBase):
    """Base of the lean actions: subclasses call run_remote(job, params, task_vars), or run_job when the task's
    arguments and its check mode are all the job needs."""

    _supports_check_mode = True

    def _python(self, task_vars: dict[str, t.Any], result: dict[str, t.Any]) -> str:
        """The machine's Python, as a module would get it: ansible_python_interpreter, else discovery (whose
        finding is returned as a fact, as modules do)."""
        configured = self._templar.template(C.config.get_config_value("INTERPRETER_PYTHON", variables=task_vars))
        if configured and configured not in AUTO:
            return configured
        facts = task_vars.get("ansible_facts", {})
        if "discovered_interpreter_python" in facts:
            return facts["discovered_interpreter_python"]
        found = discover_interpreter(action=self, interpreter_name="python", discovery_mode=configured or "auto",
                                     task_vars=task_vars)
        result.setdefault("ansible_facts", {})["discovered_interpreter_python"] = found
        return found

    def run_remote(self, job: str, params: dict[str, t.Any], task_vars: dict[str, t.Any]) -> dict[str, t.Any]:
        result: dict[str, t.Any] = {}
        python = self._python(task_vars, result)
        program = f"{REMOTE_PROGRAM}\nrun({job!r}, json.loads({json.dumps(params)!r}))\n"
        ran = self._low_level_execute_command(f"{shlex.quote(python)} -", sudoable=True, in_data=program.encode())
        output = ran.get("stdout", "").strip()
        try:
            answer = json.loads(output.splitlines()[-1]) if output else None
        except ValueError:
            answer = None
        if not isinstance(answer, dict):
            raise AnsibleActionFail(
                f"{job} on this machine did not answer (exit {ran.get('rc')}): "
                f"{(ran.get('stderr') or output or 'no output').strip()[-2000:]} "
                f"(interpreter {python}: set ansible_python_interpreter for this host if it is not its Python 3)")
        return {**result, **answer}

    def run_job(self, job: str, argument_spec: dict[str, t.Any], task_vars: dict[str, t.Any]) -> dict[str, t.Any]:
        """The job run with the task's arguments, validated against argument_spec, and the task's check mode."""
        args = self.validate_argument_spec(argument_spec=argument_spec)[1]
        return self.run_remote(job, {**args, "check_mode": bool(self._task.check_mode)}, task_vars)
