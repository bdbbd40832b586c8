"""Action plugin adhoc.dask_cluster.dask_check: many input checks in one task, each with its own message.

On a controller each task costs a fork per machine, so a dozen `assert` tasks on eight machines cost seconds
before anything happens. This plugin evaluates the checks in order, on the controller, and fails with the
message of the first check that does not hold. A message is
templated only when its check fails, so it may describe a value that only a failing input has.

Every condition is first evaluated in one expression: Jinja resolves each variable an expression names once, and
Ansible templates a variable anew at each resolution, so conditions that share variables cost one templating of
each. Only when that does not hold every condition at once (a check fails, or a condition fails to evaluate
because an earlier check would have stopped it) are they evaluated one by one, in order, for the first failure.

With `entry_point` (an entry point of the task's role), the variables are first validated against that entry
point's argument spec (the role's meta/argument_specs.yml) exactly as ansible.builtin.validate_argument_spec
validates them, so that a role included with `rolespec_validate: false` keeps its type checks without the
extra task per machine.

Once every check holds, `record` (optional) is templated and returned under the same key: registered, it
takes the place of a set_fact task after the checks, which would cost another fork per machine.
"""
from __future__ import annotations

import functools
import io
import os
import tokenize
import typing as t

import yaml
from ansible.errors import AnsibleActionFail
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from ansible.plugins.action import ActionBase
from ansible.template import is_trusted_as_template, trust_as_template

try:
    from yaml import CSafeLoader as _SpecLoader
except ImportError:  # PyYAML built without libyaml
    from yaml import SafeLoader as _SpecLoader


class ActionModule(ActionBase):
    _requires_connection = False

    @classmethod
    def finalize_task_arg(cls, name: str, value: t.Any, templar: t.Any, context: t.Any) -> t.Any:
        # The conditions are evaluated and the messages templated in run(), each when it is needed.
        if name in ("checks", "record"):
            return value
        return super().finalize_task_arg(name, value, templar, context)

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        checks = self._task.args.get("checks")
        if not isinstance(checks, list) or not checks:
            raise AnsibleActionFail("checks must be a non-empty list of {that, msg}")
        entry_point = self._task.args.get("entry_point")
        if entry_point is not None:
            errors = self._argument_errors(entry_point, task_vars or {})
            if errors:
                # The message ansible.builtin.validate_argument_spec gives.
                result.update(failed=True, argument_errors=errors,
                              msg="Validation of arguments failed:\n" + "\n".join(errors))
                return result
        conditions = []
        for number, check in enumerate(checks, start=1):
            if not isinstance(check, dict) or set(check) - {"that", "msg"} or "that" not in check:
                raise AnsibleActionFail(f"check {number} must be a mapping with 'that' and 'msg' only")
            conditions.append(check["that"] if isinstance(check["that"], list) else [check["that"]])
        if not self._all_hold([condition for check in conditions for condition in check]):
            for number, (check, check_conditions) in enumerate(zip(checks, conditions), start=1):
                for condition in check_conditions:
                    if not self._templar.evaluate_conditional(conditional=condition):
                        result.update(failed=True, assertion=condition,
                                      msg=self._templar.template(check.get("msg", f"Check {number} failed")))
                        return result
        result.update(changed=False, msg=f"All {len(checks)} checks passed")
        if "record" in self._task.args:
            # Templated only now: a value it derives may only make sense for inputs that passed the checks.
            result["record"] = self._templar.template(self._task.args["record"])
        return result

    def _all_hold(self, conditions: list[t.Any]) -> bool:
        """True when every condition evaluates to True in one expression. False when any does not, or when one
        cannot be joined (a boolean, a template, a condition not trusted as the task's own) or fails to evaluate:
        the caller then evaluates them one by one, as ansible.builtin.assert would, and reports the first."""
        if not all(isinstance(condition, str) and condition.strip() and is_trusted_as_template(condition)
                   and not any(mark in condition for mark in ("{{", "{%", "{#")) and _balanced(condition)
                   for condition in conditions):
            return False
        # Joined only from conditions trusted as templates, so the joined expression is as trusted as they are.
        expression = trust_as_template("[" + ", ".join(f"({condition.strip()})" for condition in conditions) + "]")
        try:
            results = self._templar.evaluate_expression(expression, escape_backslashes=False)
        except Exception:  # noqa: BLE001 (the one-by-one evaluation raises it again, for the right condition)
            return False
        return all(held is True for held in results)

    def _argument_errors(self, entry_point: str, task_vars: dict[str, t.Any]) -> list[str]:
        """The errors in the variables an entry point's argument spec names, as validate_argument_spec says."""
        role_path = task_vars.get("role_path")
        if not role_path:
            raise AnsibleActionFail("entry_point is for a task of a role (role_path is not set)")
        path = os.path.join(role_path, "meta", "argument_specs.yml")
        try:
            options = _argument_specs(path)["argument_specs"][entry_point].get("options") or {}
        except (KeyError, TypeError) as error:
            raise AnsibleActionFail(f"{path} has no argument spec for entry point {entry_point!r}") from error
        provided = self._templar.template({name: task_vars[name] for name in options if name in task_vars})
        validated = ArgumentSpecValidator(options).validate(provided, validate_role_argument_spec=True)
        return list(validated.error_messages)


def _balanced(condition: str) -> bool:
    """Whether the condition's brackets close within it (strings aside), so that joining it with others cannot make
    a condition that is no expression on its own, such as `a) or (b`, into one."""
    depth = 0
    try:
        for token in tokenize.generate_tokens(io.StringIO(condition).readline):
            if token.type == tokenize.OP and token.string in ("(", "[", "{"):
                depth += 1
            elif token.type == tokenize.OP and token.string in (")", "]", "}"):
                depth -= 1
                if depth < 0:
                    return False
    except (tokenize.TokenError, SyntaxError):
        return False
    return depth == 0


@functools.lru_cache(maxsize=None)
def _argument_specs(path: str) -> t.Any:
    """A role's meta/argument_specs.yml as plain data, read with PyYAML's own loader: the file holds no Ansible
    tags, and Ansible's loader (which marks every value with its origin) and the deep copy its cache hands out
    would cost each machine's fork more than the checks themselves."""
    with open(path, encoding="utf-8") as spec:
        return yaml.load(spec, Loader=_SpecLoader)  # noqa: S506 (a safe loader)
