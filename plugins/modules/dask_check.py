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
  - One task instead of one assert per check: on a controller each task costs a fork per machine.
version_added: 0.3.0
author: adhoc.dask_cluster contributors
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
attributes:
  check_mode:
    support: full
"""

EXAMPLES = r"""
- name: preflight | Check the worker's inputs
  adhoc.dask_cluster.dask_check:
    checks:
      - that:
          - dask_worker_nworkers | int >= 1
        msg: "dask_worker_nworkers is '{{ dask_worker_nworkers }}' on host {{ inventory_hostname }}: give at least 1."
"""

RETURN = r"""
assertion:
  description: The condition that did not hold.
  returned: failed
  type: str
"""
