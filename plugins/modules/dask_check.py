#!/usr/bin/python
"""Documentation of the action plugin adhoc.dask_cluster.dask_check (it runs on the controller)."""
from __future__ import annotations

DOCUMENTATION = r"""
module: dask_check
short_description: Evaluate several input checks in one task, failing with the first failing check's message
description:
  - Each check is a list of conditions (as ansible.builtin.assert's I(that)) and the message to fail with when
    one of them does not hold. Checks run in order; the first failing one ends the task.
  - A message is templated only when its check fails, so it may describe values that only a bad input has.
  - All conditions and I(record) are first evaluated together, as one expression, so that a variable several of
    them name is templated once; only when that does not hold every condition are the conditions evaluated one
    by one, in order, which finds the first failing check as described above. The record is therefore evaluated
    before the checks are known to hold; like the conditions, it must change nothing (no lookup that writes).
  - One task instead of one assert per check, since on a controller each task costs a fork per machine.
version_added: 0.3.0
author: adhoc.dask_cluster contributors (!UNKNOWN)
options:
  checks:
    description: The checks, in order.
    type: list
    elements: dict
    required: true
    suboptions:
      that:
        description: Conditions, as for ansible.builtin.assert (a string or a list of strings).
        type: list
        elements: str
        required: true
      msg:
        description: The message when a condition does not hold; say what to change, and where.
        type: str
  entry_point:
    description:
      - An entry point of the task's role (C(main), C(preflight), ...). The variables its argument spec (the
        role's C(meta/argument_specs.yml)) names are validated first, as ansible.builtin.validate_argument_spec
        does, with the same message.
      - For a role included with C(rolespec_validate=false) - one task per machine instead of two.
    type: str
    version_added: 0.5.0
  record:
    description:
      - Values returned, templated, as C(record) once every check holds. Register the task to keep them, in
        place of a set_fact task after the checks (one fork per machine fewer).
      - Where each of its strings is plain text or one C({{ expression }}), the record is evaluated with the
        conditions, in the same expression; otherwise it is templated on its own after them.
    type: dict
    version_added: 0.5.0
attributes:
  check_mode:
    support: full
    description: Evaluates the checks in check mode as in a normal run; it changes nothing either way.
"""

EXAMPLES = r"""
- name: preflight | Check the worker's inputs
  adhoc.dask_cluster.dask_check:
    checks:
      - that:
          - dask_worker_nworkers | int >= 1
        msg: "dask_worker_nworkers is '{{ dask_worker_nworkers }}' on host {{ inventory_hostname }}: give at least 1."
    record:
      nworkers: "{{ dask_worker_nworkers | int }}"
  register: __dask_worker_preflight  # __dask_worker_preflight.record.nworkers
"""

RETURN = r"""
argument_errors:
  description: The argument spec's errors, when I(entry_point) was given and the variables did not meet it.
  returned: failed validation
  type: list
  elements: str
record:
  description: The option I(record), templated, when every check held.
  returned: when I(record) is given and every check held
  type: dict
assertion:
  description: The condition that did not hold.
  returned: failed
  type: str
"""
