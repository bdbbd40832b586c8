#!/usr/bin/python
"""Documentation of the action plugin adhoc.dask_cluster.dask_cluster_remove (its program runs on the machine)."""
from __future__ import annotations

DOCUMENTATION = r"""
module: dask_cluster_remove
short_description: Remove a Dask cluster's containers (found by label) and the collection's files on a machine
description:
  - Lists the containers labelled as the cluster's (I(label_cluster)=I(cluster)), stops and removes those whose
    role label is in I(roles), then removes I(paths). Nothing else is touched; a container without the
    cluster's label is never listed.
  - All of them go side by side. Containers of I(graceful_roles) are stopped first, each with I(stop_timeout),
    then removed; the others are removed with force at once (as C(docker rm -f)).
  - One round trip per machine, and no module packaging - it runs as a small program on the engine's socket
    (standard library only), as its action plugin sends it. Teardown (playbooks/down.yml) and the roles' state
    C(absent) use it.
version_added: 0.3.0
author: adhoc.dask_cluster contributors (!UNKNOWN)
extends_documentation_fragment:
  - adhoc.dask_cluster.machine_program
  - adhoc.dask_cluster.cluster_containers
  - adhoc.dask_cluster.retire
options:
  root:
    description:
      - The cluster's own directory (C(<dask_cluster_data_root>/<dask_cluster_name>)). Every path of I(paths)
        must lie inside it as written (no symbolic link on the way), and it must carry the collection's marker
        or hold only what the collection makes there; otherwise nothing is removed and the task fails.
      - Once nothing but the marker is left in it, it is removed too.
    type: str
    required: true
  paths:
    description: Files or directories inside I(root) to remove once the containers are gone (the collection's own).
    type: list
    elements: str
    default: []
  paths_when_alone:
    description:
      - Files or directories inside I(root) to remove only when no container of the cluster is left on the
        machine once those of I(roles) are gone (the machine's keys, which every role's containers read).
    type: list
    elements: str
    default: []
    version_added: 0.10.0
  graceful_roles:
    description:
      - Roles whose containers get SIGTERM and I(stop_timeout) seconds to close before they are removed.
      - By default only Jupyter, whose kernels may be writing the user's files. A Dask scheduler or worker keeps
        nothing that outlives it - on SIGTERM a worker closes without handing its data on (that is retirement,
        which down.yml does first for workers leaving a running cluster) - so they are removed at once.
    type: list
    elements: str
    default: [jupyter]
  stop_timeout:
    description: Seconds a container of I(graceful_roles) gets to stop after SIGTERM before it is killed.
    type: int
    default: 10
"""

EXAMPLES = r"""
- name: Remove the cluster's worker container and its spill space
  adhoc.dask_cluster.dask_cluster_remove:
    cluster: dask
    label_cluster: io.github.adhoc.dask_cluster.cluster
    label_role: io.github.adhoc.dask_cluster.role
    roles: [worker]
    root: /var/lib/dask_cluster/dask
    paths: [/var/lib/dask_cluster/dask/worker-space]
"""

RETURN = r"""
retired:
  description: Names of the worker processes retired before the removal (with I(retire)).
  returned: always
  type: list
  elements: str
removed:
  description: Names of the containers removed (or that would be, in check mode), workers first, then Jupyter,
    then the scheduler (they are removed side by side).
  returned: always
  type: list
  elements: str
removed_paths:
  description: The paths of I(paths) that existed and were removed (or would be).
  returned: always
  type: list
  elements: str
"""
