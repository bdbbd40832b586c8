#!/usr/bin/python
"""Documentation of the action plugin adhoc.dask_cluster.dask_image_transfer (it runs on the controller)."""
from __future__ import annotations

DOCUMENTATION = r"""
module: dask_image_transfer
short_description: Copy a large file (an image archive) to a machine, showing progress, checksum verified
description:
  - Sends I(src) from the controller in chunks through the machine's own connection, printing bytes, percent
    and rate every I(progress_interval) seconds, as M(ansible.builtin.copy) cannot.
  - What landed is checked against the controller's SHA-256 before it is renamed to I(dest). A transfer cut
    short or corrupted leaves neither I(dest) nor C(DEST.partial) behind.
  - C(DEST.partial) is created exclusively, readable by its owner alone. Put I(dest) in a directory only the
    become user can enter (M(ansible.builtin.tempfile) with C(state=directory)), as the roles do, so that no
    other user of the machine can reach the file before or after it is loaded.
version_added: 0.2.0
author: adhoc.dask_cluster contributors (!UNKNOWN)
extends_documentation_fragment:
  - adhoc.dask_cluster.chunked_copy
options:
  src:
    description: File on the controller.
    type: path
    required: true
  dest:
    description: Path on the machine.
    type: str
    required: true
  mode:
    description: Permissions of I(dest).
    type: raw
    default: "0600"
"""

EXAMPLES = r"""
- name: Make a directory only root can enter
  ansible.builtin.tempfile:
    state: directory
    path: /var/tmp
  register: private

- name: Copy the image archive
  adhoc.dask_cluster.dask_image_transfer:
    src: gds_dev.tar
    dest: "{{ private.path }}/gds_dev.tar"
"""

RETURN = r"""
checksum:
  description: SHA-256 of the file, as verified on the machine.
  returned: success
  type: str
size:
  description: Bytes sent.
  returned: success
  type: int
"""
