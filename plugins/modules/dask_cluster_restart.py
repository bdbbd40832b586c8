#!/usr/bin/python
"""Documentation of the action plugin adhoc.dask_cluster.dask_cluster_restart (its program runs on the machine)."""
from __future__ import annotations

DOCUMENTATION = r"""
module: dask_cluster_restart
short_description: Restart a Dask cluster's containers on a machine (found by label), its workers retired first
description:
  - Lists the containers labelled as the cluster's (I(label_cluster)=I(cluster)) and restarts those whose role
    label is in I(roles), as C(docker restart) does (SIGTERM, then I(stop_timeout) seconds before SIGKILL) - the
    scheduler first, then Jupyter, then the workers. The containers keep their settings; Docker starts their
    processes again.
  - With I(retire), the workers of the worker containers are first retired through the scheduler, which moves
    the data they hold to the other workers.
  - One round trip per machine, as a small program on the engine's socket (standard library only), sent by its
    action plugin. playbooks/restart.yml uses it.
version_added: 0.13.0
author: adhoc.dask_cluster contributors (!UNKNOWN)
extends_documentation_fragment:
  - adhoc.dask_cluster.machine_program
  - adhoc.dask_cluster.cluster_containers
  - adhoc.dask_cluster.retire
options:
  stop_timeout:
    description: Seconds a container gets to stop after SIGTERM before it is killed.
    type: int
    default: 10
  rejoin:
    description:
      - After the restart, wait until the scheduler lists each restarted worker process again as a new process
        (running, where a retired one is closing). I(argv) runs in each worker container with a
        JSON object C({"names", "timeout"}) appended, and must print last a JSON line with C(joined)
        (name to address) and C(missing). Fails, naming the workers, when any is missing after I(timeout).
    type: dict
    suboptions:
      argv:
        description: The waiting command, run without a shell in the worker container.
        type: list
        elements: str
        required: true
      timeout:
        description: Seconds to wait for the workers.
        type: int
        default: 120
      label_workers:
        description: Label key whose value lists the container's worker names.
        type: str
        required: true
"""

EXAMPLES = r"""
- name: Restart this machine's workers, their data handed to the other workers first
  adhoc.dask_cluster.dask_cluster_restart:
    cluster: dask
    label_cluster: io.github.adhoc.dask_cluster.cluster
    label_role: io.github.adhoc.dask_cluster.role
    roles: [worker]
    retire:
      argv: [python, -c, "..."]
      label_workers: io.github.adhoc.dask_cluster.workers
"""

RETURN = r"""
retired:
  description: Names of the worker processes retired before the restart (with I(retire)).
  returned: always
  type: list
  elements: str
rejoined:
  description: With I(rejoin), each restarted worker process's name and its new address.
  returned: always
  type: dict
restarted:
  description: Names of the running containers restarted (or that would be, in check mode), in the order they were.
  returned: always
  type: list
  elements: str
"""
