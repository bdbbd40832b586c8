"""Documentation shared by the actions that retire a machine's workers through the scheduler before they act."""
from __future__ import annotations


class ModuleDocFragment:
    DOCUMENTATION = r"""
options:
  retire:
    description:
      - Retire the workers of each running worker container through the scheduler first, so that the data they
        hold moves to the other workers. I(argv) runs in the container with the worker names its label
        I(label_workers) lists (a JSON list) appended, and must print last a JSON line with the lists C(retired)
        and C(absent) (names the scheduler does not know).
      - When any container's workers are not all retired, the task fails, naming the workers and why, and no
        container is touched. Skipped in check mode.
    type: dict
    suboptions:
      argv:
        description: The retirement command, run without a shell in the worker container.
        type: list
        elements: str
        required: true
      label_workers:
        description: Label key whose value lists the container's worker names.
        type: str
        required: true
      absent_ok:
        description:
          - Count a worker the scheduler does not know as retired (it holds none of the scheduler's results), for
            a container about to be recreated or restarted, whose scheduler may itself be new.
        type: bool
        default: false
        version_added: 0.13.0
      instead:
        description: What the failure message tells the user to do instead, when the retirement fails.
        type: str
        version_added: 0.13.0
"""
