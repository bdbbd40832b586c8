"""Action plugin adhoc.dask_cluster.dask_check: many input checks in one task, each with its own message.

On a controller each task costs a fork per machine, so a dozen `assert` tasks on eight machines cost seconds
before anything happens. This plugin evaluates the checks in order, on the controller, and fails with the
message of the first check that does not hold. A message is
templated only when its check fails, so it may describe a value that only a failing input has.

With `entry_point` (an entry point of the task's role), the variables are first validated against that entry
point's argument spec (the role's meta/argument_specs.yml) exactly as ansible.builtin.validate_argument_spec
validates them, before any check, so that a role included with `rolespec_validate: false` keeps its type checks
without the extra task per machine.

Jinja resolves each variable an expression names once, and Ansible templates a variable anew at each
resolution, so the checks are then evaluated in one expression together with `record` (each of its strings that
is one `{{ expression }}` becomes that expression): conditions and record that share variables cost one
templating of each. Only when that does not hold every condition at once (a check fails, or a part fails to
evaluate because an earlier check would have stopped it) are the conditions evaluated one by one, in order, for
the first failure. So the record is evaluated before the task knows that the checks hold, and its values, like
the conditions, must change nothing (no lookup that writes).

Once every check holds, `record` (optional) is returned, templated, under the same key: registered, it takes
the place of a set_fact task after the checks, which would cost another fork per machine.
"""
from __future__ import annotations

import functools
import io
import math
import os
import tokenize
import typing as t
from collections.abc import Mapping

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
        task_vars = task_vars or {}
        checks = self._task.args.get("checks")
        if not isinstance(checks, list) or not checks:
            raise AnsibleActionFail("checks must be a non-empty list of {that, msg}")
        entry_point = self._task.args.get("entry_point")
        if entry_point is not None:
            errors = self._argument_errors(entry_point, task_vars)
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
        record = self._task.args.get("record", _NO_RECORD)

        together = self._evaluate_together([condition for check in conditions for condition in check], record)
        if together is None or not together.held:
            for number, (check, check_conditions) in enumerate(zip(checks, conditions), start=1):
                for condition in check_conditions:
                    if not self._templar.evaluate_conditional(conditional=condition):
                        result.update(failed=True, assertion=condition,
                                      msg=self._templar.template(check.get("msg", f"Check {number} failed")))
                        return result
        result.update(changed=False, msg=f"All {len(checks)} checks passed")
        if record is not _NO_RECORD:
            # Templated only now when it was not evaluated with the checks: a value it derives may only make sense
            # for inputs that passed them.
            result["record"] = (together.record if together is not None and together.held
                                and together.record is not _NO_RECORD else self._templar.template(record))
        return result

    def _evaluate_together(self, conditions: list[t.Any], record: t.Any) -> _Together | None:
        """The conditions and the record evaluated in one expression; None when a condition cannot be joined (a
        boolean, a template, one not trusted as the task's own, one whose brackets do not close) or the expression
        fails to evaluate: the caller then evaluates them one by one, as ansible.builtin.assert would, and reports
        the first failure. A record that cannot be written as one expression is left out (returned as _NO_RECORD)
        and templated on its own."""
        if not all(isinstance(condition, str) and condition.strip() and _joinable(condition)
                   for condition in conditions):
            return None
        record_expression = _as_expression(record) if record is not _NO_RECORD else None
        # Joined only from parts trusted as templates, so the joined expression is as trusted as they are.
        expression = trust_as_template(
            "[[" + ", ".join(f"({condition.strip()})" for condition in conditions) + "], "
            + (record_expression or "none") + "]")
        try:
            held, evaluated = self._templar.evaluate_expression(expression, escape_backslashes=False)
        except Exception:  # noqa: BLE001 (the one-by-one evaluation raises it again, for the right part)
            return None
        # A condition that resolves to omit drops out of the list: it must not count as holding.
        return _Together(len(held) == len(conditions) and all(value is True for value in held),
                         evaluated if record_expression is not None else _NO_RECORD)

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


_NO_RECORD = object()


class _Together(t.NamedTuple):
    held: bool  # every condition evaluated to True
    record: t.Any  # the record, evaluated, or _NO_RECORD


def _has_template_marks(value: str) -> bool:
    return any(mark in value for mark in ("{{", "{%", "{#"))


def _joinable(condition: str) -> bool:
    """Whether a condition can be part of a joined expression: the task's own (trusted), no template in it, and
    brackets that close within it."""
    return is_trusted_as_template(condition) and not _has_template_marks(condition) and _balanced(condition)


def _as_expression(value: t.Any) -> str | None:
    """`value` (a task argument: mappings, lists, strings, numbers) as one Jinja expression that evaluates to what
    templating it gives, or None when a part cannot be: a string that mixes text and templates, say."""
    if isinstance(value, Mapping):
        # Keys are never templated: a key that looks like a template keeps the record out of the expression.
        parts = [(repr(str(key)) if isinstance(key, str) and not _has_template_marks(key) else None,
                  _as_expression(item)) for key, item in value.items()]
        if any(key is None or item is None for key, item in parts):
            return None
        return "{" + ", ".join(f"{key}: {item}" for key, item in parts) + "}"
    if isinstance(value, (list, tuple)):
        items = [_as_expression(item) for item in value]
        return None if any(item is None for item in items) else "[" + ", ".join(items) + "]"
    if isinstance(value, str):
        if not _has_template_marks(value):
            return repr(str(value))
        if not is_trusted_as_template(value):
            return None  # templating leaves it as text; in an expression it would be a constant to judge again
        # Text around the template (a space, a newline a YAML block leaves) would make the result a string, and a
        # backslash in it would be read as the expression reads it, not as a template does (escaped).
        inner = value[2:-2]
        if (value.startswith("{{") and value.endswith("}}") and inner.strip() and "\\" not in inner
                and inner[:1] not in "-+" and inner[-1:] not in "-+" and _joinable(trust_as_template(inner))):
            return f"({inner.strip()})"
        return None
    if value is None or isinstance(value, (bool, int)) or (isinstance(value, float) and math.isfinite(value)):
        return repr(value)
    return None


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
