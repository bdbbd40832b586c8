"""Ask the scheduler how the cluster is doing, from inside the scheduler's container.

Run with the image's Python: `python -c "$(cat dask_status.py)" ADDRESS [status|held]`. Prints one JSON line: the
tasks the scheduler holds by state and how many other clients are connected; and with `status` (the default) also
its address, its worker processes (name, address, threads, memory used and limit, tasks processing, results
held), its package versions and the packages whose versions differ between the components. `held` asks the
scheduler alone, so that a worker that does not answer cannot hold the question up.
"""
import json
import sys
import warnings

from distributed import Client


def held_by_scheduler(dask_scheduler, me):
    """Runs in the scheduler: its tasks by state, and the clients other than this one."""
    states = {}
    for task in dask_scheduler.tasks.values():
        states[task.state] = states.get(task.state, 0) + 1
    others = [name for name in dask_scheduler.clients if name not in (me, "fire-and-forget")]
    return {"tasks": states, "clients": len(others)}


def every_worker(client):
    """All workers the scheduler knows. Some releases list only a few unless asked for all (n_workers=-1);
    releases before that argument existed list all of them."""
    try:
        return client.scheduler_info(n_workers=-1)
    except TypeError:
        return client.scheduler_info()


def main():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with Client(sys.argv[1], timeout=30) as client:
            if sys.argv[2:3] == ["held"]:
                print(json.dumps(client.run_on_scheduler(held_by_scheduler, me=client.id)))
                return
            info = every_worker(client)
            processing, held = client.processing(), client.has_what()
            scheduler = client.run_on_scheduler(held_by_scheduler, me=client.id)
            versions = client.get_versions()
    workers = [{"name": str(worker.get("name")), "address": address, "host": worker.get("host"),
                "nthreads": worker.get("nthreads"), "memory": (worker.get("metrics") or {}).get("memory"),
                "memory_limit": worker.get("memory_limit"), "processing": len(processing.get(address, ())),
                "results": len(held.get(address, ()))}
               for address, worker in info["workers"].items()]
    components = [versions["scheduler"]["packages"]] + [w["packages"] for w in versions["workers"].values()]
    differ = sorted(package for package in components[0]
                    if len({str(packages.get(package)) for packages in components}) > 1)
    print(json.dumps({"address": info.get("address"), "workers": sorted(workers, key=lambda w: w["name"]),
                      "tasks": scheduler["tasks"], "clients": scheduler["clients"],
                      "versions": components[0], "versions_differ": differ}))


main()
