"""Jinja tests of adhoc.dask_cluster: input checks that must agree with Dask itself."""
from __future__ import annotations

import posixpath
import re

from ansible.errors import AnsibleFilterError

# A cluster name prefixes container names and labels: what Docker accepts in a name, lower case, kept short.
CLUSTER_NAME = re.compile(r"[a-z0-9][a-z0-9_.-]{0,39}")


def dask_cluster_name(value) -> bool:
    """True for 1-40 lower-case letters, digits, '.', '_' or '-', starting with a letter or digit."""
    return isinstance(value, str) and CLUSTER_NAME.fullmatch(value) is not None


# A worker process needs more than this to start; a smaller limit is a mistyped unit, not a choice.
MEMORY_LIMIT_FLOOR = 128 * 2**20


def dask_memory_limit(value) -> bool:
    """True when `dask worker --memory-limit VALUE` reads VALUE as a limit a worker can run under.

    Dask reads 'auto', a fraction of the machine's memory (a number above 0 up to 1), a number of bytes (a
    number above 1, so '1.5' is one byte), or a size string ('4GB', '1.5GiB') parsed with Dask's own
    parse_bytes. Refused: what Dask would read as no limit at all (0, '0GB') and a number of bytes below
    MEMORY_LIMIT_FLOOR, which is a size written without its unit.
    """
    if isinstance(value, bool):
        return False
    text = str(value).strip()
    if text == "auto":
        return True
    try:
        number = float(text)
    except ValueError:
        number = None
    if number is not None:
        return 0 < number <= 1 or number >= MEMORY_LIMIT_FLOOR
    # Imported only here, for a size string: importing dask is slow, and every fork that loads this plugin
    # would pay for it.
    try:
        from dask.utils import parse_bytes
    except ImportError:
        raise AnsibleFilterError("adhoc.dask_cluster.dask_memory_limit needs the 'dask' package on the controller "
                                 "(pip install -r requirements.txt)") from None
    try:
        return parse_bytes(text) >= MEMORY_LIMIT_FLOOR
    except (ValueError, TypeError):
        return False


# Directories of the system and of its users: a cluster's data root there would put the collection's removals
# and ownership changes beside everything else in them.
SYSTEM_DIRECTORIES = frozenset({
    "/", "/bin", "/boot", "/dev", "/etc", "/home", "/lib", "/lib32", "/lib64", "/media", "/mnt", "/opt", "/proc",
    "/root", "/run", "/sbin", "/srv", "/sys", "/tmp", "/usr", "/usr/local", "/var", "/var/lib", "/var/tmp",
    "/var/log", "/var/cache", "/var/run"})


def dask_clean_path(value) -> bool:
    """True for an absolute path written as it resolves lexically: no '.', '..', '//' or trailing '/'."""
    # normpath keeps a leading '//' (POSIX leaves its meaning to the system), and Linux reads it as '/'.
    return (isinstance(value, str) and value.startswith("/") and not value.startswith("//")
            and posixpath.normpath(value) == value)


def dask_data_root(value) -> bool:
    """True for a clean absolute path that is not '/' or one of the system's own directories."""
    return dask_clean_path(value) and value not in SYSTEM_DIRECTORIES


class TestModule:
    def tests(self):
        return {"dask_memory_limit": dask_memory_limit, "dask_cluster_name": dask_cluster_name,
                "dask_clean_path": dask_clean_path, "dask_data_root": dask_data_root}
