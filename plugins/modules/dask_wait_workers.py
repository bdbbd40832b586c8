#!/usr/bin/python
"""Wait, on the scheduler's machine, until the scheduler's identity endpoint lists the expected workers."""
from __future__ import annotations

DOCUMENTATION = r"""
module: dask_wait_workers
short_description: Wait until a Dask scheduler counts exactly the expected worker names
description:
  - Polls the scheduler's C(/json/identity.json) (the dashboard's HTTP endpoint, no Dask import) every
    I(interval) seconds until the names of the workers it lists are exactly I(names), or I(timeout) passes.
  - One module run for the whole wait, where ansible.builtin.uri with C(until) costs a module run per try.
  - Never fails because workers are missing. It returns the last answer (C(json)) and the last error (C(msg)),
    and the tasks after it name what is missing.
version_added: 0.3.0
author: adhoc.dask_cluster contributors (!UNKNOWN)
options:
  url:
    description: The identity endpoint, e.g. C(https://127.0.0.1:8787/json/identity.json).
    type: str
    required: true
  ca_path:
    description: CA certificate that signed the dashboard's HTTPS certificate (TLS on).
    type: path
  names:
    description: The worker names to wait for (order does not matter).
    type: list
    elements: str
    required: true
  timeout:
    description: Seconds to wait at most.
    type: int
    default: 120
  interval:
    description: Seconds between tries.
    type: float
    default: 0.25
attributes:
  check_mode:
    support: full
    description: Waits in check mode as in a normal run; it only reads.
"""

EXAMPLES = r"""
- name: Wait for the workers
  adhoc.dask_cluster.dask_wait_workers:
    url: http://127.0.0.1:8787/json/identity.json
    names: [lab1, lab2]
"""

RETURN = r"""
json:
  description: The scheduler's last answer (its identity, with C(workers)); absent when it never answered.
  returned: when the scheduler answered
  type: dict
matched:
  description: Whether the scheduler listed exactly I(names) before I(timeout).
  returned: always
  type: bool
seconds:
  description: How long the wait took.
  returned: always
  type: float
"""

import json  # noqa: E402
import time  # noqa: E402

from ansible.module_utils.basic import AnsibleModule  # noqa: E402
from ansible.module_utils.urls import ConnectionError as UrlsError, open_url  # noqa: E402


def joined(answer) -> list[str]:
    """The worker names a scheduler's identity lists, sorted."""
    return sorted(str(worker.get("name")) for worker in (answer or {}).get("workers", {}).values())


def main() -> None:
    module = AnsibleModule(
        argument_spec={
            "url": {"type": "str", "required": True},
            "ca_path": {"type": "path"},
            "names": {"type": "list", "elements": "str", "required": True},
            "timeout": {"type": "int", "default": 120},
            "interval": {"type": "float", "default": 0.25},
        },
        supports_check_mode=True,
    )
    params = module.params
    expected, answer, error = sorted(params["names"]), None, "no answer yet"
    started = time.monotonic()
    while True:
        try:
            with open_url(params["url"], timeout=5, ca_path=params["ca_path"]) as response:
                answer, error = json.load(response), ""
        except (OSError, ValueError, UrlsError) as exc:
            error = f"{params['url']}: {exc}"
        if answer is not None and joined(answer) == expected:
            break
        if time.monotonic() - started >= params["timeout"]:
            break
        time.sleep(params["interval"])
    result = {"changed": False, "matched": answer is not None and joined(answer) == expected,
              "seconds": round(time.monotonic() - started, 2), "msg": error}
    if answer is not None:
        result["json"] = answer
    module.exit_json(**result)


if __name__ == "__main__":
    main()
