"""Wait until worker processes, restarted, joined the scheduler again: each name listed as running (a retired
process is `closing_gracefully` until it ends, so a running one of that name is its successor).

Run by the `restart` entry point in a worker container of the cluster, whose environment carries the scheduler's
address (DASK_SCHEDULER_ADDRESS) and the cluster's TLS:
    python -c "$(cat dask_rejoin.py)" '{"names": [...], "timeout": seconds}'
Prints one JSON line: {"joined": {name: address}, "missing": [names not back in time]}, and exits 1 when any is
missing.
"""
import json
import sys
import time

from distributed import Client

asked = json.loads(sys.argv[1])
names = {str(name) for name in asked["names"]}
deadline = time.monotonic() + asked["timeout"]
joined = {}
# The scheduler may itself be restarting: connecting is retried until the deadline.
while True:
    try:
        with Client(timeout="10s") as client:
            while True:
                try:
                    workers = client.scheduler_info(n_workers=-1)["workers"]
                except TypeError:  # releases before n_workers list every worker
                    workers = client.scheduler_info()["workers"]
                joined = {str(info.get("name")): address for address, info in workers.items()
                          if str(info.get("name")) in names and info.get("status", "running") == "running"}
                if set(joined) == names or time.monotonic() > deadline:
                    break
                time.sleep(0.5)
        break
    except OSError:
        if time.monotonic() > deadline:
            break
        time.sleep(1)
print(json.dumps({"joined": joined, "missing": sorted(names - set(joined))}), flush=True)
sys.exit(1 if names - set(joined) else 0)
