"""Callback play_times, for bench/versions.py: each play's wall time, written as JSON to $PLAY_TIMES_OUT."""
from __future__ import annotations

import json
import os
import time

from ansible.plugins.callback import CallbackBase

DOCUMENTATION = r"""
name: play_times
type: aggregate
short_description: Write each play's wall time to the JSON file $PLAY_TIMES_OUT (bench/versions.py)
description:
  - A list of [play name, seconds] in the order the plays ran; a benchmark's aid, not part of the collection.
"""


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "play_times"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self):
        super().__init__()
        self._plays: list[list] = []
        self._started = time.monotonic()

    def _close(self) -> None:
        now = time.monotonic()
        if self._plays:
            self._plays[-1][1] = round(now - self._started, 3)
        self._started = now

    def v2_playbook_on_play_start(self, play):
        self._close()
        self._plays.append([play.get_name(), 0.0])

    def v2_playbook_on_stats(self, stats):
        self._close()
        with open(os.environ["PLAY_TIMES_OUT"], "w", encoding="utf-8") as out:
            json.dump(self._plays, out)
