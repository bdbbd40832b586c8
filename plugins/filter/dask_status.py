"""Filters of adhoc.dask_cluster: the cluster's status (playbooks/status.yml) from what it read, and its problems."""
from __future__ import annotations

HEALTHY = (None, "healthy")  # no healthcheck, or one that passes


def _size(n) -> str:
    if n is None:
        return "?"
    for unit in ("B", "KiB", "MiB", "GiB"):
        if abs(n) < 1024 or unit == "GiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return str(n)


def _machine(host: str, read: dict, roles: list, label_role: str) -> tuple[dict, list]:
    """One machine's containers of the cluster, and its problems."""
    if read.get("unreachable") or "containers" not in read:
        return {"reachable": False, "containers": []}, [
            f"machine {host} does not answer: {str(read.get('msg') or 'unreachable').strip()[:300]}"]
    containers, problems = [], []
    for container in read["containers"]:
        details = container.get("Details")
        if details is None:  # not one of the cluster's (only those are inspected)
            continue
        name = container["Names"][0].lstrip("/")
        entry = {"name": name, "role": container["Labels"].get(label_role), "state": details["Status"],
                 "health": details["Health"], "restarts": details["RestartCount"],
                 "started": details["StartedAt"], "image_id": container["ImageID"]}
        containers.append(entry)
        if details["Status"] != "running":
            problems.append(f"container {name} on {host} is {details['Status']} (exit code {details['ExitCode']}"
                            f"{', killed for lack of memory' if details['OOMKilled'] else ''})")
        elif details["Health"] not in HEALTHY:
            problems.append(f"container {name} on {host} is {details['Health']}"
                            + (" (still starting: ask again in a minute)" if details["Health"] == "starting" else ""))
    present = {c["role"] for c in containers}
    problems += [f"machine {host} runs no {role} container of the cluster" for role in roles if role not in present]
    return {"reachable": True, "containers": containers}, problems


def dask_cluster_status(reads: dict, expected: dict, answer: dict, certificates: dict, renew_days: int,
                        label_role: str) -> dict:
    """The cluster's status: `reads` is each machine's dask_machine_info result (its cluster's containers
    inspected) or its unreachable result; `expected` is {host: {'roles': [...], 'workers': [names]}};
    `answer` is what the scheduler answered (roles/dask_scheduler/files/dask_status.py's JSON; empty when it did
    not, with `error`); `certificates` is {which: {'not_after': ..., 'days_left': ...}}. Returns the machines,
    the workers, the scheduler's view, the certificates, every problem found (empty when healthy) and the table
    status.yml prints."""
    machines, problems = {}, []
    for host, wanted in expected.items():
        machines[host], found = _machine(host, reads.get(host) or {"unreachable": True}, wanted["roles"],
                                         label_role)
        problems += found
    workers = answer.get("workers")
    if workers is None:
        problems.append(f"the scheduler does not answer: {answer.get('error') or 'no answer'}")
        workers = []
    joined = {w["name"] for w in workers}
    expected_names = [name for wanted in expected.values() for name in wanted["workers"]]
    missing = [name for name in expected_names if name not in joined]
    unexpected = sorted(joined - set(expected_names))
    if answer.get("workers") is not None and missing:
        problems.append(f"workers missing: {', '.join(missing)} ({len(joined & set(expected_names))} of "
                        f"{len(expected_names)} joined)")
    if unexpected:
        problems.append(f"workers the inventory does not expect: {', '.join(unexpected)}")
    if answer.get("versions_differ"):
        problems.append(f"the components run different versions of {', '.join(answer['versions_differ'])}")
    for which, expiry in certificates.items():
        if expiry["days_left"] <= int(renew_days):
            # up.yml renews a machine's or the client's certificate by itself, but refuses a CA near its end.
            fix = ("rotate it: up.yml -e dask_tls_rotate_ca=true (clients then need the new bundle)" if which == "CA"
                   else "up.yml renews it")
            problems.append(f"the {which} certificate expires on {expiry['not_after']} ({expiry['days_left']:.0f} "
                            f"days), within dask_tls_renew_days ({renew_days}): {fix}")
    status = {"healthy": not problems, "problems": problems, "machines": machines,
              "scheduler": {"address": answer.get("address"), "workers_joined": len(joined & set(expected_names)),
                            "workers_expected": len(expected_names), "tasks": answer.get("tasks"),
                            "clients": answer.get("clients"), "versions": answer.get("versions")},
              "workers": workers, "certificates": certificates}
    status["table"] = _table(status)
    return status


def _table(status: dict) -> list[str]:
    scheduler = status["scheduler"]
    lines = [f"{'machine':<20} {'container':<24} {'state':<10} {'health':<10} {'restarts':>8}  {'up since':<20} image",
             *(f"{host:<20} {'(does not answer)':<24}" for host, m in status["machines"].items()
               if not m["reachable"]),
             *(f"{host:<20} {c['name']:<24} {c['state']:<10} {c['health'] or '-':<10} {c['restarts']:>8}  "
               f"{(c['started'] or '')[:19]:<20} {(c['image_id'] or '')[7:19]}"
               for host, m in status["machines"].items() for c in m["containers"]),
             "",
             f"{'worker':<24} {'threads':>7} {'memory':>10} {'limit':>10} {'processing':>10} {'results':>8}",
             *(f"{w['name']:<24} {w['nthreads']:>7} {_size(w['memory']):>10} {_size(w['memory_limit']):>10} "
               f"{w['processing']:>10} {w['results']:>8}" for w in status["workers"]),
             "",
             f"Scheduler:  {scheduler['address'] or 'no answer'}",
             f"Workers:    {scheduler['workers_joined']} of {scheduler['workers_expected']} joined",
             f"Tasks:      {', '.join(f'{n} {state}' for state, n in (scheduler['tasks'] or {}).items()) or 'none'}"
             f" ({scheduler['clients'] if scheduler['clients'] is not None else '?'} other clients connected)",
             "Versions:   " + ", ".join(f"{p} {v}" for p, v in (scheduler["versions"] or {}).items() if v),
             *(f"Expires:    {which} certificate {c['not_after']} ({c['days_left']:.0f} days)"
               for which, c in status["certificates"].items()),
             "",
             *([f"PROBLEM:    {p}" for p in status["problems"]] or ["Healthy: every container, worker and certificate"
                                                                    " is as expected."])]
    return lines


class FilterModule:
    def filters(self):
        return {"dask_cluster_status": dask_cluster_status}
