"""Retire worker processes by name through the scheduler, which moves the data they hold to the other workers
(Dask's graceful retirement) and gives them no more tasks. They are not closed here: this runs in their own
container, which would end with them and take this script along before it answered; the container's removal
ends them.

Run by the `remove` entry point in a worker container of the cluster, whose environment carries the scheduler's
address (DASK_SCHEDULER_ADDRESS) and the cluster's TLS:
    python -c "$(cat dask_retire.py)" NAME...
Prints one JSON line: {"retired": [names], "absent": [names the scheduler did not know]}.
"""
import json
import sys

import dask
from distributed import Client


def every_worker(client):
    """All workers the scheduler knows. Some releases list only a few unless asked for all (n_workers=-1);
    releases before that argument existed list all of them."""
    try:
        return client.scheduler_info(n_workers=-1)["workers"]
    except TypeError:
        return client.scheduler_info()["workers"]


names = set(sys.argv[1:])
if not dask.config.get("scheduler-address", None):
    sys.exit("DASK_SCHEDULER_ADDRESS is not set in this container: it cannot reach the scheduler")
with Client(timeout="30s") as client:
    workers = every_worker(client)
    chosen = [addr for addr, info in workers.items() if str(info.get("name")) in names]
    retired = client.retire_workers(workers=chosen, close_workers=False, remove=False) if chosen else {}
    known = {str(workers[addr].get("name")) for addr in chosen}
    print(json.dumps({"retired": sorted(str(info.get("name")) for info in retired.values()),
                      "absent": sorted(names - known)}), flush=True)
