#!/usr/bin/python
"""Documentation of the action plugin adhoc.dask_cluster.dask_machine_info (its program runs on the machine)."""
from __future__ import annotations

DOCUMENTATION = r"""
module: dask_machine_info
short_description: Read a machine's Docker engine info, all its containers and the images under one reference
description:
  - One read of the engine's C(/info), C(/containers/json?all=1) and C(/images/json) filtered by I(image)
    (the fields the collection uses of the objects community.docker.docker_host_info returns with
    I(verbose_output)), and of the TCP ports in use.
  - It runs as a small program on the engine's socket (standard library only), sent by its action plugin over
    the connection Ansible holds - no module packaging and no module imports on the machine. up.yml's first
    contact with every machine uses it.
  - A machine that does not answer over SSH is unreachable, as for a module (so C(ignore_unreachable) works).
version_added: 0.4.0
author: adhoc.dask_cluster contributors (!UNKNOWN)
extends_documentation_fragment:
  - adhoc.dask_cluster.machine_program
options:
  image:
    description: Image reference (C(name:tag) or C(name@digest)) whose images to list; none when omitted.
    type: str
  paths:
    description:
      - Paths to describe, by the setting that names them; returned under C(paths) with where each leads.
    type: dict
    default: {}
    version_added: 0.8.0
  root:
    description: The cluster's own directory; returned under C(root), with whether it is the collection's.
    type: str
    version_added: 0.8.0
  secrets_group:
    description: The group that may read the cluster's keys and token; its ID is returned under C(secrets).
    type: str
    version_added: 0.9.0
  secrets_paths:
    description:
      - The machine's key, token and their directories; described under C(secrets) as each of C(paths).
    type: list
    elements: str
    default: []
    version_added: 0.9.0
  digests:
    description:
      - Small regular files whose SHA-256 to return under C(digests) (the machine's certificates, so that a re-run
        compares them with the controller's instead of copying them).
    type: list
    elements: str
    default: []
    version_added: 0.10.0
  inspect_label:
    description:
      - A label as C(key=value). Each container that carries it is also inspected, and gets C(Details), its
        state as C(docker inspect) shows it (C(Status), C(Running), C(Paused), C(Restarting), C(OOMKilled),
        C(ExitCode), C(Error), C(StartedAt), C(FinishedAt)), its healthcheck's C(Health) status (none without
        one) and C(RestartCount). playbooks/status.yml inspects the cluster's own containers so.
    type: str
    version_added: 0.13.0
"""

EXAMPLES = r"""
- name: Reach each machine and list what it runs
  adhoc.dask_cluster.dask_machine_info:
    image: darribas/gds_dev:10.0
  register: machine
"""

RETURN = r"""
host_info:
  description: Of the engine's C(/info), C(NCPU), C(MemTotal), C(ServerVersion) and C(Runtimes) only.
  returned: success
  type: dict
containers:
  description:
    - Every container, running or not, with C(Id), C(Names), C(Image), C(ImageID), C(State), C(Status),
      C(Ports) as C(/containers/json) returns them, and of C(Labels) only this collection's
      (C(io.github.adhoc.dask_cluster.*)). Commands, environments, mounts and other labels are left out,
      so that no -v output shows what other people's containers were started with.
    - With I(inspect_label), the containers that carry that label also have C(Details).
  returned: success
  type: list
  elements: dict
images:
  description: The images matching I(image), as C(/images/json) returns them (C(Id), C(RepoTags),
    C(RepoDigests), ...).
  returned: success
  type: list
  elements: dict
listening:
  description:
    - The TCP ports something listens on in the machine's network namespace, on any address (IPv4 and IPv6),
      from the kernel's socket tables. up.yml refuses a port the cluster needs that another program holds.
  returned: success
  type: list
  elements: int
  version_added: 0.7.0
user:
  description: The user the read ran as on the machine (C(root) under become).
  returned: success
  type: str
  version_added: 0.8.0
paths:
  description:
    - For each setting of I(paths), where its path leads (C(real), links and C(..) resolved), whether it
      C(exists) and is a C(dir), and when it exists its C(uid), C(gid) and C(mode).
  returned: success
  type: dict
  version_added: 0.8.0
root:
  description: I(root) described as each of C(paths), with C(ours) true when it is missing, carries the
    collection's marker, or holds only what the collection makes there.
  returned: when I(root) is given
  type: dict
  version_added: 0.8.0
secrets:
  description:
    - C(gid), the ID of I(secrets_group) on the machine (none when it has no such group), its C(members), the
      users whose primary group it is (C(primary_of)), and C(paths), each of I(secrets_paths) by its path,
      described as each of C(paths).
  returned: success
  type: dict
  version_added: 0.9.0
digests:
  description: Each path of I(digests) with its content's SHA-256, or none when it is not a regular file of at
    most 1 MiB (a link is not followed).
  returned: success
  type: dict
  version_added: 0.10.0
"""
