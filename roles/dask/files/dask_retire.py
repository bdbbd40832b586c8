"""Retire worker processes by name through the scheduler, which first moves the data they hold to the
other workers (Dask's graceful retirement), then closes them.

Run by the `remove` entry point in a worker container of the cluster, whose environment carries the scheduler's
address (DASK_SCHEDULER_ADDRESS) and the cluster's TLS:
    python -c "$(cat dask_retire.py)" NAME...
Prints one JSON line: {"retired": [names], "absent": [names the scheduler did not know]}.
"""
import json
import sys

from distributed import Client


def every_worker(client):
    """All workers the scheduler knows. Some releases list only a few unless asked for all (n_workers=-1);
    releases before that argument existed list all of them."""
    try:
        return client.scheduler_info(n_workers=-1)["workers"]
    except TypeError:
        return client.scheduler_info()["workers"]


names = set(sys.argv[1:])
with Client(timeout="30s") as client:
    workers = every_worker(client)
    chosen = [addr for addr, info in workers.items() if str(info.get("name")) in names]
    retired = client.retire_workers(workers=chosen, close_workers=True) if chosen else {}
    known = {str(workers[addr].get("name")) for addr in chosen}
    print(json.dumps({"retired": sorted(str(info.get("name")) for info in retired.values()),
                      "absent": sorted(names - known)}))
