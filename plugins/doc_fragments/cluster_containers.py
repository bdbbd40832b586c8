"""Documentation shared by the actions that find a cluster's containers on a machine by their labels."""
from __future__ import annotations


class ModuleDocFragment:
    DOCUMENTATION = r"""
options:
  cluster:
    description: The cluster's name, the value of I(label_cluster) on its containers.
    type: str
    required: true
  label_cluster:
    description: Label key that names a container's cluster. A container without it is never listed.
    type: str
    required: true
  label_role:
    description: Label key that names a container's role (scheduler, jupyter, worker).
    type: str
    required: true
  roles:
    description: The roles whose containers the task acts on.
    type: list
    elements: str
    required: true
"""
