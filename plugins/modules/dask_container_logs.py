#!/usr/bin/python
"""Documentation of the action plugin adhoc.dask_cluster.dask_container_logs (its program runs on the machine)."""
from __future__ import annotations

DOCUMENTATION = r"""
module: dask_container_logs
short_description: Collect a Dask cluster's container logs from a machine into files on the controller, streamed
description:
  - Writes the log of each container labelled as the cluster's (I(label_cluster)=I(cluster)) whose role label is
    in I(roles) - stdout and stderr, each line written whole when it ends, with its timestamp - into
    I(dest)/<container>.log on the controller. Earlier C(.log) files in I(dest) are removed first.
  - On the machine each log is streamed into a file of a new private directory under C(/tmp), a piece at a
    time, with every string of I(secrets) replaced by C([redacted]); the connection Ansible holds then copies
    each file to the controller as C(fetch) does, and the directory is removed. No log is held whole in memory
    on either side.
  - Under become, the files on the machine are given to the user Ansible logged in as (sudo's C(SUDO_UID), else
    the connection's remote user), so that its connection can copy them.
version_added: 0.13.0
author: adhoc.dask_cluster contributors (!UNKNOWN)
extends_documentation_fragment:
  - adhoc.dask_cluster.machine_program
  - adhoc.dask_cluster.cluster_containers
options:
  dest:
    description: Directory on the controller for this machine's logs; made when missing.
    type: path
    required: true
  since:
    description: Only lines since this time, a Unix time or a duration back from now (C(30m), C(2h), C(1d)).
    type: str
  tail:
    description: Only this many last lines of each log (a number, or C(all)).
    type: str
  secrets:
    description: Strings replaced by C([redacted]) in every line written.
    type: list
    elements: str
    default: []
"""

EXAMPLES = r"""
- name: Collect the last 1000 lines of every container of the cluster
  adhoc.dask_cluster.dask_container_logs:
    cluster: dask
    label_cluster: io.github.adhoc.dask_cluster.cluster
    label_role: io.github.adhoc.dask_cluster.role
    roles: [scheduler, jupyter, worker]
    dest: .dask/dask/logs/lab1
    tail: "1000"
"""

RETURN = r"""
logs:
  description: One entry per container, with C(container) (its name), C(role), C(path) (the file on the
    controller), C(lines) (how many were written) and C(errors) (its last error lines, at most five).
  returned: success
  type: list
  elements: dict
"""
