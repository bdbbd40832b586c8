"""Every worker machine: a healthy worker container with a restart policy and a spill directory the image's
user can write."""
from conftest import CLUSTER, SETTINGS, WORKER_HOSTS, wait_for_health

testinfra_hosts = [f"ansible://{name}" for name in WORKER_HOSTS]


def test_worker_container_is_running_and_healthy(host):
    container = host.docker(f"{CLUSTER}-worker")
    assert container.is_running
    assert wait_for_health(host, container.name) == "healthy"


def test_worker_container_restarts_by_itself(host):
    policy = host.docker(f"{CLUSTER}-worker").inspect()["HostConfig"]["RestartPolicy"]["Name"]
    assert policy == "unless-stopped"


def test_spill_directory_belongs_to_the_image_user(host):
    mounts = host.docker(f"{CLUSTER}-worker").inspect()["Mounts"]
    spill = next(m for m in mounts if m["Destination"] == "/dask-worker-space")
    directory = host.file(spill["Source"])
    assert directory.is_directory
    assert (directory.uid, directory.gid) == (1000, 100)
    host.check_output("docker exec %s touch /dask-worker-space/.write-test", f"{CLUSTER}-worker")


def test_worker_dashboard_listens_on_loopback_only(host):
    port = int(host.ansible.get_variables().get("dask_worker_dashboard_port", SETTINGS["dask_dashboard_port"] + 1))
    assert host.socket(f"tcp://127.0.0.1:{port}").is_listening
    # Not on any other address: not all interfaces, not the machine's LAN address, not IPv6.
    on_port = [s for s in host.socket.get_listening_sockets() if s.rsplit(":", 1)[-1] == str(port)]
    assert on_port == [f"tcp://127.0.0.1:{port}"], on_port
