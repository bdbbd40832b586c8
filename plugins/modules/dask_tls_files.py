#!/usr/bin/python
"""Place a machine's key, certificate and the CA certificate in one directory, in one round trip."""
from __future__ import annotations

DOCUMENTATION = r"""
module: dask_tls_files
short_description: Ensure a directory holds given small files (a machine's TLS key and certificates), owner and modes
description:
  - Ensures I(path) is a directory with I(mode), owned by I(owner):I(group), holding each file of I(files)
    with exactly that content and mode, owned the same way. A file is rewritten (atomically) only when its
    content differs; owner and modes are corrected where they differ.
  - One module run per machine, where a directory task and a copy of three files cost about ten round trips.
    The contents travel inside the module's arguments, so give the task C(no_log) when one is a private key.
version_added: 0.3.0
author: adhoc.dask_cluster contributors
options:
  path:
    description: The directory.
    type: path
    required: true
  mode:
    description: The directory's mode.
    type: raw
    default: "0500"
  owner:
    description: Owner of the directory and the files (name or number).
    type: str
    required: true
  group:
    description: Group of the directory and the files (name or number).
    type: str
    required: true
  files:
    description: The files, by name inside I(path).
    type: list
    elements: dict
    required: true
    suboptions:
      name:
        description: File name (no directory part).
        type: str
        required: true
      content:
        description: The file's content, exactly.
        type: str
        required: true
      mode:
        description: The file's mode.
        type: raw
        required: true
attributes:
  check_mode:
    support: full
"""

EXAMPLES = r"""
- name: Place the machine's key and certificates
  adhoc.dask_cluster.dask_tls_files:
    path: /var/lib/dask_cluster/dask/tls
    owner: "1000"
    group: "100"
    files:
      - {name: cert.pem, content: "{{ lookup('file', 'cert.pem', rstrip=false) }}", mode: "0444"}
  no_log: true
"""

RETURN = r"""
written:
  description: Names of the files whose content was (or would be) written.
  returned: always
  type: list
  elements: str
"""

import os  # noqa: E402
import tempfile  # noqa: E402

from ansible.module_utils.basic import AnsibleModule  # noqa: E402


def main() -> None:
    module = AnsibleModule(
        argument_spec={
            "path": {"type": "path", "required": True},
            "mode": {"type": "raw", "default": "0500"},
            "owner": {"type": "str", "required": True},
            "group": {"type": "str", "required": True},
            "files": {"type": "list", "elements": "dict", "required": True, "options": {
                "name": {"type": "str", "required": True},
                "content": {"type": "str", "required": True, "no_log": True},
                "mode": {"type": "raw", "required": True},
            }},
        },
        supports_check_mode=True,
    )
    params = module.params
    directory, changed, written = params["path"], False, []
    if not os.path.isdir(directory):
        changed = True
        if not module.check_mode:
            os.makedirs(directory, mode=0o700)

    def ensure_attributes(path: str, mode, changed: bool) -> bool:
        changed = module.set_owner_if_different(path, params["owner"], changed)
        changed = module.set_group_if_different(path, params["group"], changed)
        return module.set_mode_if_different(path, mode, changed)

    if os.path.isdir(directory):
        changed = ensure_attributes(directory, params["mode"], changed)
    for item in params["files"]:
        if "/" in item["name"]:
            module.fail_json(msg=f"files: '{item['name']}' must be a plain file name inside {directory}")
        target, content = os.path.join(directory, item["name"]), item["content"].encode()
        try:
            with open(target, "rb") as handle:
                current = handle.read()
        except FileNotFoundError:
            current = None
        if current != content:
            changed = True
            written.append(item["name"])
            if not module.check_mode:
                descriptor, temporary = tempfile.mkstemp(dir=directory, prefix=f".{item['name']}.")
                with os.fdopen(descriptor, "wb") as handle:
                    handle.write(content)
                module.atomic_move(temporary, target)
        if os.path.exists(target):
            changed = ensure_attributes(target, item["mode"], changed)
    module.exit_json(changed=changed, written=written)


if __name__ == "__main__":
    main()
