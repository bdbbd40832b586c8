"""Documentation shared by the two chunked copies, dask_image_transfer and dask_image_fetch."""
from __future__ import annotations


class ModuleDocFragment:
    DOCUMENTATION = r"""
options:
  chunk_size:
    description:
      - Bytes per chunk (one round trip each), at most 1 GiB; the sending side holds one in memory.
    type: int
    default: 67108864
  progress_interval:
    description: Seconds between progress lines.
    type: float
    default: 3
attributes:
  check_mode:
    support: full
    description: In check mode it copies nothing and reports the change it would make.
notes:
  - Always reports a change, since the caller decides whether the file must move.
"""
