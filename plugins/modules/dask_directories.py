#!/usr/bin/python
"""Documentation of the action plugin adhoc.dask_cluster.dask_directories (its program runs on the machine)."""
from __future__ import annotations

DOCUMENTATION = r"""
module: dask_directories
short_description: Ensure directories with their owner and mode, holding given small files, in one run
description:
  - Ensures each I(path) is a directory with I(mode), owned by I(owner):I(group), holding each of its I(files)
    with exactly that content and mode, owned the same way. A file is rewritten (atomically, already with its
    owner and mode) only when its content differs; owners and modes are corrected where they differ. Parent
    directories that are missing are created.
  - Only inside I(root), the cluster's own directory, does it re-own or write anything. I(root) is
    created with a marker file (C(.adhoc.dask_cluster)), and refused when it exists without one and holds
    anything the collection did not make. A directory outside I(root) that exists belongs to the user. It is
    used as it is, never re-owned or changed, and refused when I(owner):I(group) could not write it.
  - It never follows a symbolic link. A path that leads elsewhere, a link in a file's place, or anything but a
    small regular file where a file goes is refused.
  - One round trip for all of them. The collection places a machine's TLS key and certificates, the workers'
    spill space, the notebook directory and the Jupyter token with it.
  - The contents travel on the connection's standard input (as a pipelined module's arguments do), never on a
    command line, and no result or message carries them, so a private key needs no C(no_log) on the task.
version_added: 0.4.0
author: adhoc.dask_cluster contributors (!UNKNOWN)
extends_documentation_fragment:
  - adhoc.dask_cluster.machine_program
options:
  root:
    description: The cluster's own directory (C(<dask_cluster_data_root>/<dask_cluster_name>)), absolute.
    type: str
    required: true
  directories:
    description: The directories, in order.
    type: list
    elements: dict
    required: true
    suboptions:
      path:
        description: Absolute path of the directory.
        type: str
        required: true
      owner:
        description: Owner of the directory and its files (name or number).
        type: str
        required: true
      group:
        description: Group of the directory and its files (name or number).
        type: str
        required: true
      mode:
        description: The directory's mode, octal (C("0500")).
        type: raw
        required: true
      files:
        description: Files inside the directory, by name.
        type: list
        elements: dict
        default: []
        suboptions:
          name:
            description: File name (no directory part).
            type: str
            required: true
          content:
            description: The file's content, exactly. Give this or I(src).
            type: str
          src:
            description:
              - A file on the controller whose content this file gets, read by the action itself (at most 1 MiB).
                Give this or I(content). A private key given so is never a task argument, so it shows neither
                with C(display_args_to_stdout) nor at C(-vvv).
            type: path
          mode:
            description: The file's mode, octal (C("0400")).
            type: raw
            required: true
"""

EXAMPLES = r"""
- name: Place the machine's key and certificates, for root and the group dask-cluster
  adhoc.dask_cluster.dask_directories:
    root: /var/lib/dask_cluster/dask
    directories:
      - path: /var/lib/dask_cluster/dask/tls
        owner: "0"
        group: dask-cluster
        mode: "0550"
        files:
          - {name: cert.pem, content: "{{ lookup('file', 'cert.pem', rstrip=false) }}", mode: "0444"}
          - {name: key.pem, src: /home/me/.dask/dask/hosts/node1/key.pem, mode: "0440"}
"""

RETURN = r"""
changed_paths:
  description: The directories and files created, rewritten or given another owner or mode (or that would be).
  returned: success
  type: list
  elements: str
"""
