#!/usr/bin/python
"""Remove one cluster's containers of some roles from a machine, and the collection's own files there."""
from __future__ import annotations

DOCUMENTATION = r"""
module: dask_cluster_remove
short_description: Remove a Dask cluster's containers (found by label) and the collection's files on a machine
description:
  - Lists the containers labelled as the cluster's (I(label_cluster)=I(cluster)), stops and removes those whose
    role label is in I(roles), workers first, then removes I(paths). Nothing else is touched: a container
    without the cluster's label is never listed.
  - One round trip per machine, where a listing plus one docker_container and one file task per item cost
    several. Teardown (playbooks/down.yml) and the roles' state C(absent) use it.
version_added: 0.3.0
author: adhoc.dask_cluster contributors
extends_documentation_fragment:
  - community.docker._docker.api_documentation
options:
  cluster:
    description: The cluster's name, the value of I(label_cluster) on its containers.
    type: str
    required: true
  label_cluster:
    description: Label key that names a container's cluster.
    type: str
    required: true
  label_role:
    description: Label key that names a container's role (scheduler, jupyter, worker).
    type: str
    required: true
  roles:
    description: The roles whose containers go.
    type: list
    elements: str
    required: true
  paths:
    description: Files or directories to remove once the containers are gone (the collection's own).
    type: list
    elements: path
    default: []
  stop_timeout:
    description: Seconds a container gets to stop after SIGTERM (Dask closes cleanly) before it is killed.
    type: int
    default: 10
requirements:
  - Docker API >= 1.25
"""

EXAMPLES = r"""
- name: Remove the cluster's worker container and its spill space
  adhoc.dask_cluster.dask_cluster_remove:
    cluster: dask
    label_cluster: io.github.adhoc.dask_cluster.cluster
    label_role: io.github.adhoc.dask_cluster.role
    roles: [worker]
    paths: [/var/lib/dask_cluster/dask/worker-space]
"""

RETURN = r"""
removed:
  description: Names of the containers removed (or that would be, in check mode), in the order removed.
  returned: always
  type: list
  elements: str
removed_paths:
  description: The paths of I(paths) that existed and were removed (or would be).
  returned: always
  type: list
  elements: str
"""

import json  # noqa: E402
import os  # noqa: E402
import shutil  # noqa: E402
import traceback  # noqa: E402

from ansible_collections.community.docker.plugins.module_utils._api.errors import (  # noqa: E402
    DockerException,
    NotFound,
)
from ansible_collections.community.docker.plugins.module_utils._common_api import AnsibleDockerClient  # noqa: E402

# Workers leave before the scheduler they report to; Jupyter's clients before the scheduler too.
ORDER = {"worker": 0, "jupyter": 1, "scheduler": 2}


def main() -> None:
    client = AnsibleDockerClient(
        argument_spec={
            "cluster": {"type": "str", "required": True},
            "label_cluster": {"type": "str", "required": True},
            "label_role": {"type": "str", "required": True},
            "roles": {"type": "list", "elements": "str", "required": True},
            "paths": {"type": "list", "elements": "path", "default": []},
            "stop_timeout": {"type": "int", "default": 10},
        },
        supports_check_mode=True,
    )
    params = client.module.params
    try:
        listed = client.get_json("/containers/json", params={
            "all": 1, "filters": json.dumps({"label": [f"{params['label_cluster']}={params['cluster']}"]})})
        ours = sorted((c for c in listed if (c.get("Labels") or {}).get(params["label_role"]) in params["roles"]),
                      key=lambda c: ORDER.get(c["Labels"][params["label_role"]], 0))
        removed = [c["Names"][0].lstrip("/") for c in ours]
        if not client.check_mode:
            for container in ours:
                try:
                    if container.get("State") == "running":
                        client.post_call("/containers/{0}/stop", container["Id"],
                                         params={"t": params["stop_timeout"]})
                    client.delete_call("/containers/{0}", container["Id"], params={"force": "true"})
                except NotFound:
                    pass  # gone since the listing (its restart policy was off, or someone removed it): fine
    except DockerException as exc:
        client.fail(f"Removing the containers of cluster {params['cluster']} failed: {exc}",
                    exception=traceback.format_exc())
    removed_paths = [path for path in params["paths"] if os.path.lexists(path)]
    if not client.check_mode:
        for path in removed_paths:
            if os.path.isdir(path) and not os.path.islink(path):
                shutil.rmtree(path)
            else:
                os.remove(path)
    client.module.exit_json(changed=bool(removed or removed_paths), removed=removed, removed_paths=removed_paths)


if __name__ == "__main__":
    main()
