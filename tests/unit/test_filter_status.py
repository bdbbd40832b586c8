"""dask_cluster_status: status.yml's judgement of the cluster from what the machines and the scheduler said."""
from collection import plugin

status = plugin("filter", "dask_status")

ROLE = "io.github.adhoc.dask_cluster.role"


def container(name, role, state="running", health="healthy", exit_code=0, oom=False):
    return {"Names": [f"/{name}"], "ImageID": "sha256:" + "ab" * 32, "State": state,
            "Labels": {ROLE: role}, "Details": {"Status": state, "Health": health, "RestartCount": 2,
                                                 "StartedAt": "2026-11-29T10:00:00.1Z", "ExitCode": exit_code,
                                                 "OOMKilled": oom}}


def healthy_reads():
    return {"s": {"containers": [container("c-scheduler", "scheduler"), container("c-jupyter", "jupyter"),
                                 # another cluster's or the user's container: not inspected, not reported
                                 {"Names": ["/mine"], "ImageID": "x", "State": "exited", "Labels": {}}]},
            "w": {"containers": [container("c-worker", "worker")]}}


EXPECTED = {"s": {"roles": ["scheduler", "jupyter"], "workers": []}, "w": {"roles": ["worker"], "workers": ["w-0", "w-1"]}}


def answer(names=("w-0", "w-1"), differ=()):
    return {"address": "tls://10.0.0.1:8786", "tasks": {"memory": 3}, "clients": 1,
            "versions": {"python": "3.11.2", "dask": "2026.8.0"}, "versions_differ": list(differ),
            "workers": [{"name": n, "address": f"tls://10.0.0.2:{4000 + i}", "nthreads": 2, "memory": 100 << 20,
                         "memory_limit": 2 << 30, "processing": 1, "results": 3} for i, n in enumerate(names)]}


CERTS = {"CA": {"not_after": "2036-01-01 00:00:00 UTC", "days_left": 3600.0},
         "client": {"not_after": "2027-01-01 00:00:00 UTC", "days_left": 40.0}}


def test_a_healthy_cluster_has_no_problem_and_a_table_of_every_container_and_worker():
    result = status.dask_cluster_status(healthy_reads(), EXPECTED, answer(), CERTS, 30, ROLE)
    assert result["healthy"] and result["problems"] == []
    assert [c["name"] for c in result["machines"]["s"]["containers"]] == ["c-scheduler", "c-jupyter"]
    assert result["scheduler"]["workers_joined"] == result["scheduler"]["workers_expected"] == 2
    table = "\n".join(result["table"])
    assert "c-worker" in table and "w-1" in table and "100.0 MiB" in table and "2.0 GiB" in table
    assert "3 memory (1 other clients connected)" in table
    assert "client certificate 2027-01-01 00:00:00 UTC (40 days)" in table


def test_every_kind_of_problem_is_named():
    reads = healthy_reads()
    reads["s"]["containers"][1] = container("c-jupyter", "jupyter", health="unhealthy")
    reads["w"]["containers"][0] = container("c-worker", "worker", state="exited", health=None, exit_code=137,
                                            oom=True)
    reads["x"] = {"unreachable": True, "msg": "ssh: connect to host x port 22: No route to host"}
    expected = {**EXPECTED, "x": {"roles": ["worker"], "workers": ["x"]}}
    result = status.dask_cluster_status(reads, expected, answer(names=("w-0", "stray"), differ=["numpy"]),
                                        CERTS, 60, ROLE)
    assert not result["healthy"]
    assert result["problems"] == [
        "container c-jupyter on s is unhealthy",
        "container c-worker on w is exited (exit code 137, killed for lack of memory)",
        "machine x does not answer: ssh: connect to host x port 22: No route to host",
        "workers missing: w-1, x (1 of 3 joined)",
        "workers the inventory does not expect: stray",
        "the components run different versions of numpy",
        "the client certificate expires on 2027-01-01 00:00:00 UTC (40 days), within dask_tls_renew_days (60): "
        "up.yml renews it",
    ]
    assert "PROBLEM:    machine x does not answer" in "\n".join(result["table"])


def test_a_missing_container_and_a_silent_scheduler_are_problems():
    reads = healthy_reads()
    reads["w"]["containers"] = []
    result = status.dask_cluster_status(reads, EXPECTED, {"error": "its container c-scheduler is not running"},
                                        {}, 30, ROLE)
    assert result["problems"] == ["machine w runs no worker container of the cluster",
                                  "the scheduler does not answer: its container c-scheduler is not running"]
    assert result["workers"] == [] and "Scheduler:  no answer" in result["table"]
