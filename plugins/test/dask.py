"""Jinja tests of adhoc.dask_cluster: input checks that must agree with Dask itself."""
from __future__ import annotations

import re

from ansible.errors import AnsibleFilterError

# A cluster name prefixes container names and labels: what Docker accepts in a name, lower case, kept short.
CLUSTER_NAME = re.compile(r"[a-z0-9][a-z0-9_.-]{0,39}")


def dask_cluster_name(value) -> bool:
    """True for 1-40 lower-case letters, digits, '.', '_' or '-', starting with a letter or digit."""
    return isinstance(value, str) and CLUSTER_NAME.fullmatch(value) is not None


def dask_memory_limit(value) -> bool:
    """True when `dask worker --memory-limit VALUE` accepts VALUE as a limit.

    Dask reads 'auto', a number of bytes, a fraction of the machine's memory (a number up to 1), or a size
    string ('4GB', '1.5GiB'); 0 means no limit. Sizes are parsed with Dask's own parse_bytes.
    """
    if isinstance(value, bool):
        return False
    if isinstance(value, (int, float)):
        return value >= 0
    text = str(value).strip()
    if text == "auto":
        return True
    try:
        return float(text) >= 0
    except ValueError:
        pass
    # Imported only here, for a size string: importing dask costs half a second in every forked worker that
    # loads this plugin.
    try:
        from dask.utils import parse_bytes
    except ImportError:
        raise AnsibleFilterError("adhoc.dask_cluster.dask_memory_limit needs the 'dask' package on the controller "
                                 "(pip install -r requirements.txt)") from None
    try:
        return parse_bytes(text) > 0
    except (ValueError, TypeError):
        return False


class TestModule:
    def tests(self):
        return {"dask_memory_limit": dask_memory_limit, "dask_cluster_name": dask_cluster_name}
