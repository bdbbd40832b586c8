#!/usr/bin/python
"""Documentation of the action plugin adhoc.dask_cluster.dask_container_exec (its program runs on the machine)."""
from __future__ import annotations

DOCUMENTATION = r"""
module: dask_container_exec
short_description: Run a command in a running container and return its exit code and output
description:
  - Runs I(argv) in I(container) as C(docker exec) does without a terminal (the container's user and working
    directory), waits for it, and returns its exit code, stdout and stderr. Fails when it exits non-zero.
  - One round trip per machine, and no module packaging - it runs as a small program on the engine's socket
    (standard library only), as its action plugin sends it. The scheduler's C(wait) runs the version check
    with it; the teardown C(dask_cluster_remove) runs the retirement the same way.
  - Skipped in check mode, as any command may change something.
version_added: 0.6.0
author: adhoc.dask_cluster contributors (!UNKNOWN)
extends_documentation_fragment:
  - adhoc.dask_cluster.machine_program
options:
  container:
    description: Name or ID of a running container.
    type: str
    required: true
  argv:
    description: The command and its arguments, run without a shell.
    type: list
    elements: str
    required: true
  timeout:
    description: Seconds to wait for the command to end.
    type: int
    default: 300
attributes:
  check_mode:
    support: none
    description: Skipped in check mode, as any command may change something.
"""

EXAMPLES = r"""
- name: Ask the scheduler's container for its Python version
  adhoc.dask_cluster.dask_container_exec:
    container: dask-scheduler
    argv: [python, -c, "import sys; print(sys.version)"]
  register: answer
"""

RETURN = r"""
rc:
  description: The command's exit code.
  returned: when it ran
  type: int
stdout:
  description: What it wrote to stdout.
  returned: when it ran
  type: str
stdout_lines:
  description: I(stdout), line by line.
  returned: when it ran
  type: list
  elements: str
stderr:
  description: What it wrote to stderr.
  returned: when it ran
  type: str
"""
