"""What the two chunked copies share (dask_image_transfer to a machine, dask_image_fetch from one): their
arguments, their shell steps on the machine, and their progress lines while the bytes move."""
from __future__ import annotations

import time

from ansible.errors import AnsibleActionFail
from ansible.plugins.action import ActionBase
from ansible.utils.display import Display

from ansible_collections.adhoc.dask_cluster.plugins.plugin_utils.progress import moved, moving

display = Display()

CHUNK_ARGUMENTS = {
    "chunk_size": {"type": "int", "default": 64 * 1024 * 1024},
    "progress_interval": {"type": "float", "default": 3},
}


class Progress:
    """A progress line every `interval` seconds while `size` bytes of `name` move, and one once they moved."""

    def __init__(self, host: str, verbs: tuple[str, str], name: str, size: int, interval: float):
        self.host, self.verbs, self.name, self.size, self.interval = host, verbs, name, size, interval
        self.started = self.shown = time.monotonic()

    def advanced(self, done: int) -> None:
        now = time.monotonic()
        if now - self.shown >= self.interval and done < self.size:
            self.shown = now
            display.display(moving(self.host, self.verbs[0], self.name, done, self.size, now - self.started))

    def finished(self) -> float:
        """Prints the line of the whole copy; returns the seconds it took."""
        seconds = time.monotonic() - self.started
        display.display(moved(self.host, self.verbs[1], self.name, self.size, seconds))
        return seconds


class ChunkedCopyAction(ActionBase):
    """An action that moves one large file in chunks over the task's connection."""

    _supports_check_mode = True

    def chunked_arguments(self, **own: dict) -> dict:
        """The action's own arguments and the chunk arguments, validated."""
        args = self.validate_argument_spec(argument_spec={**own, **CHUNK_ARGUMENTS})[1]
        if not 1 <= args["chunk_size"] <= 1 << 30:  # Linux reads at most about 2 GiB at once
            raise AnsibleActionFail("chunk_size must be between 1 and 1073741824 (1 GiB)")
        return args

    def shell_step(self, command: str, host: str, sudoable: bool = True) -> None:
        out = self._low_level_execute_command(command, sudoable=sudoable)
        if out["rc"] != 0:
            raise AnsibleActionFail(f"On {host}, `{command}` failed: {out['stderr'] or out['stdout']}")
