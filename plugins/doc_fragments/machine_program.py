"""Documentation shared by the actions that run plugin_utils/machine_program.py on a machine."""
from __future__ import annotations


class ModuleDocFragment:
    DOCUMENTATION = r"""
options: {}
attributes:
  check_mode:
    support: full
    description: In check mode it reports what it would change, and changes nothing on the machine.
notes:
  - Reaches the engine on its unix socket (C(DOCKER_HOST) when that names one, else C(/var/run/docker.sock)).
  - Runs as a small program sent over the connection Ansible holds (become applies as for a module), so no
    module packaging; the machine's Python is the one a module would get (ansible_python_interpreter).
requirements:
  - Python 3 on the machine (standard library only)
"""
