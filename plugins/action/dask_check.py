"""Action plugin adhoc.dask_cluster.dask_check: many input checks in one task, each with its own message.

A role's preflight used to be one `assert` task per check. On a controller each task costs a fork per machine,
so a dozen checks on eight machines cost seconds before anything happens. This plugin evaluates the checks in
order, on the controller, and fails with the message of the first check that does not hold. A message is
templated only when its check fails, so it may describe a value that only a failing input has.
"""
from __future__ import annotations

import typing as t

from ansible.errors import AnsibleActionFail
from ansible.plugins.action import ActionBase


class ActionModule(ActionBase):
    _requires_connection = False

    @classmethod
    def finalize_task_arg(cls, name: str, value: t.Any, templar: t.Any, context: t.Any) -> t.Any:
        # The conditions are evaluated and the messages templated in run(), each when it is needed.
        if name == "checks":
            return value
        return super().finalize_task_arg(name, value, templar, context)

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        checks = self._task.args.get("checks")
        if not isinstance(checks, list) or not checks:
            raise AnsibleActionFail("checks must be a non-empty list of {that, msg}")
        for number, check in enumerate(checks, start=1):
            if not isinstance(check, dict) or set(check) - {"that", "msg"} or "that" not in check:
                raise AnsibleActionFail(f"check {number} must be a mapping with 'that' and 'msg' only")
            conditions = check["that"] if isinstance(check["that"], list) else [check["that"]]
            for condition in conditions:
                if not self._templar.evaluate_conditional(conditional=condition):
                    result.update(failed=True, assertion=condition,
                                  msg=self._templar.template(check.get("msg", f"Check {number} failed")))
                    return result
        result.update(changed=False, msg=f"All {len(checks)} checks passed")
        return result
