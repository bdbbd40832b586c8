#!/usr/bin/python
"""Documentation of the action plugin adhoc.dask_cluster.dask_image_fetch (it runs on the controller)."""
from __future__ import annotations

DOCUMENTATION = r"""
module: dask_image_fetch
short_description: Fetch a large file (an image archive) from a machine, showing progress, checksum verified
description:
  - Fetches I(src) from the machine to I(dest) on the controller in chunks of I(chunk_size) bytes, printing
    bytes, percent and rate every I(progress_interval) seconds.
  - Unlike M(ansible.builtin.fetch), which under become reads the whole file into memory (base64) on both ends,
    memory stays within one chunk whatever the file's size, with or without become.
  - Each chunk is read on the machine with the task's become settings into a file of the task's temporary
    directory and fetched by the connection as any file is. With become, the become user must be able to write
    there (root can).
  - What arrived is checked against the machine's SHA-256 before it is renamed to I(dest) (mode C(0600)). A
    fetch that fails part-way or is corrupted leaves neither I(dest) nor a partial file on the controller, and
    no chunk on the machine.
version_added: 0.8.0
author: adhoc.dask_cluster contributors (!UNKNOWN)
extends_documentation_fragment:
  - adhoc.dask_cluster.chunked_copy
options:
  src:
    description: File on the machine.
    type: str
    required: true
  dest:
    description: Path on the controller. Its directory must exist.
    type: path
    required: true
notes:
  - Needs C(dd) on the machine.
"""

EXAMPLES = r"""
- name: Fetch the image archive the machine saved, under become
  adhoc.dask_cluster.dask_image_fetch:
    src: /var/lib/images/gds.tar
    dest: "{{ playbook_dir }}/gds.tar"
  become: true
"""

RETURN = r"""
dest:
  description: Path of the file on the controller.
  returned: always
  type: str
checksum:
  description: SHA-256 of the file, as verified against the machine's.
  returned: success
  type: str
size:
  description: Bytes fetched.
  returned: success
  type: int
"""
