"""Bad input is refused before anything on any machine is touched, with a message that names the problem.

Every inventory here points at this machine (local connection) with a runnable image, so a check that let
bad input through would really create containers on the local engine; each test asserts none exists."""
from __future__ import annotations

import os
import socket
import subprocess

import pytest
from conftest import ROOT, STANDIN_IMAGE, cluster_containers, playbook

STANDIN_OTHER_ARCHIVE = ROOT / ".cache" / "images" / "gds-standin-other.tar"

CLUSTER = "validation"
LOCAL = {"ansible_connection": "local", "ansible_python_interpreter": "{{ ansible_playbook_python }}"}
GOOD_VARS = {"dask_cluster_name": CLUSTER, "dask_image": STANDIN_IMAGE, "dask_image_pull": "never",
             "dask_scheduler_host": "127.0.0.1", "dask_scheduler_port": 18786, "dask_dashboard_port": 18787,
             "dask_jupyter_port": 18888}


def inventory(schedulers=("node1",), workers=("node1",), host_vars=None, group_vars=None) -> dict:
    hosts = {name: dict(LOCAL, **(host_vars or {}).get(name, {})) for name in {*schedulers, *workers}}
    children = {}
    if schedulers:
        children["dask_scheduler"] = {"hosts": {name: None for name in schedulers}}
    if workers:
        children["dask_workers"] = {"hosts": {name: None for name in workers}}
    return {"all": {"hosts": hosts, "children": children, "vars": dict(GOOD_VARS, **(group_vars or {}))}}


BAD_INPUTS = {
    "no scheduler": (inventory(schedulers=()), "dask_scheduler holds 0 machines"),
    "two schedulers": (inventory(schedulers=("node1", "node2")), "dask_scheduler holds 2 machines (node1, node2)"),
    "no workers": (inventory(workers=()), "dask_workers is empty or missing"),
    "zero worker processes": (inventory(host_vars={"node1": {"dask_worker_nworkers": 0}}),
                              "dask_worker_nworkers is '0' on host node1"),
    "unparseable memory limit": (inventory(host_vars={"node1": {"dask_worker_memory_limit": "lots"}}),
                                 "dask_worker_memory_limit 'lots' on host node1 is not a limit Dask reads"),
    "negative memory limit": (inventory(host_vars={"node1": {"dask_worker_memory_limit": "-2GB"}}),
                              "dask_worker_memory_limit '-2GB' on host node1"),
    "worker count not a number": (inventory(host_vars={"node1": {"dask_worker_nworkers": "two"}}),
                                  "dask_worker_nworkers"),
    "zero threads": (inventory(host_vars={"node1": {"dask_worker_nthreads": 0}}),
                     "dask_worker_nthreads is '0' on host node1"),
    "dashboard on the scheduler port": (inventory(group_vars={"dask_dashboard_port": 18786}),
                                        "must be whole numbers from 1 to 65535, all different"),
    "port out of range": (inventory(group_vars={"dask_jupyter_port": 70000}),
                          "must be whole numbers from 1 to 65535"),
    "unknown pull policy": (inventory(group_vars={"dask_image_pull": "sometimes"}), "dask_image_pull"),
    "invalid cluster name": (inventory(group_vars={"dask_cluster_name": "My Cluster"}),
                             "dask_cluster_name 'My Cluster' (host node1) must be"),
    "archive that does not exist": (
        inventory(group_vars={"dask_image_source": "archive", "dask_image_archive": "/nonexistent/gds.tar"}),
        "dask_image_archive '/nonexistent/gds.tar' must be a `docker save` tar on the controller that holds "
        f"{STANDIN_IMAGE} (no such file)"),
    "archive of another image": (
        inventory(group_vars={"dask_image_source": "archive", "dask_image_archive": str(STANDIN_OTHER_ARCHIVE)}),
        "(it holds adhoc-test/gds-standin:other-distributed)"),
    "unknown image source": (inventory(group_vars={"dask_image_source": "usb-stick"}), "dask_image_source"),
    "machines disagree on TLS": (
        inventory(schedulers=("node1",), workers=("node2",), host_vars={"node2": {"dask_tls_enabled": False}}),
        "Collection-wide settings differ between machines"),
    "image reference Docker cannot parse": (inventory(group_vars={"dask_image": "darribas/gds_dev::10.0"}),
                                            "dask_image 'darribas/gds_dev::10.0' (host node1) is not an image"),
    "unknown container state": (inventory(group_vars={"dask_worker_state": "paused"}), "dask_worker_state"),
    "negative minimum worker count": (inventory(group_vars={"dask_min_workers": -1}),
                                      "dask_min_workers -1 (host node1) must be 0"),
    "more workers required than expected": (
        inventory(host_vars={"node1": {"dask_worker_nworkers": 2}}, group_vars={"dask_min_workers": 3}),
        "dask_min_workers is 3, but the inventory expects only 2 worker processes"),
    "scheduler machine that does not answer": (
        inventory(host_vars={"node1": {"ansible_connection": "ssh", "ansible_host": "127.0.0.1", "ansible_port": 1}}),
        "The scheduler's machine node1 does not answer"),
    "worker names shared across machines": (
        inventory(schedulers=("node1",), workers=("node1", "node2"), host_vars={"node2": {"dask_worker_name": "node1"}}),
        "Worker names must differ across machines, but 'node1' is on node1 and node2"),
    "memory limit Dask reads as bytes": (inventory(host_vars={"node1": {"dask_worker_memory_limit": "1.5"}}),
                                         "dask_worker_memory_limit '1.5' on host node1 is not a limit Dask reads, "
                                         "or one no worker runs under"),
    "memory limit Dask reads as none": (inventory(host_vars={"node1": {"dask_worker_memory_limit": "0GB"}}),
                                        "dask_worker_memory_limit '0GB' on host node1 is not a limit Dask reads"),
    "renewal window as long as a certificate's life": (
        inventory(group_vars={"dask_tls_renew_days": 365, "dask_tls_cert_days": 365}),
        "dask_tls_renew_days 365 (host node1) must be 0 or more and less than dask_tls_cert_days 365 and "
        "dask_tls_ca_days"),
    "Jupyter over HTTPS without TLS": (inventory(group_vars={"dask_jupyter_https": True, "dask_tls_enabled": False}),
                                       "dask_jupyter_https is true but dask_tls_enabled is false (host node1)"),
    "a worker's port that the scheduler's machine also uses": (
        inventory(host_vars={"node1": {"dask_worker_dashboard_port": GOOD_VARS["dask_jupyter_port"]}}),
        "Host node1 runs the scheduler and workers, whose ports must differ, but dask_jupyter_port and "
        f"dask_worker_dashboard_port share port {GOOD_VARS['dask_jupyter_port']}"),
    "data root that climbs out with '..'": (
        inventory(group_vars={"dask_cluster_data_root": "/var/lib/dask_cluster/../../../home"}),
        "dask_cluster_data_root '/var/lib/dask_cluster/../../../home' (host node1) must be an absolute path without"),
    "data root that is a system directory": (inventory(group_vars={"dask_cluster_data_root": "/home"}),
                                             "dask_cluster_data_root '/home' (host node1) must be an absolute path"),
    "data root that is relative": (inventory(group_vars={"dask_cluster_data_root": "data"}),
                                   "dask_cluster_data_root 'data' (host node1) must be an absolute path"),
    "notebook directory with '..'": (
        inventory(group_vars={"dask_scheduler_notebook_dir": "/srv/notebooks/../../etc"}),
        "dask_scheduler_notebook_dir '/srv/notebooks/../../etc' (host node1) must be an absolute path"),
    "spill directory with a trailing slash": (
        inventory(group_vars={"dask_worker_local_directory": "/srv/spill/"}),
        "dask_worker_local_directory '/srv/spill/' on host node1 must be an absolute path"),
    "machines disagree on the image": (
        inventory(schedulers=("node1",), workers=("node2",), host_vars={"node2": {"dask_image": "other:1"}}),
        "Collection-wide settings differ between machines"),
    "Jupyter token shorter than 32 characters": (
        inventory(group_vars={"dask_jupyter_token": "x" * 31}),
        "dask_jupyter_token (host node1) is 31 characters long or holds spaces or non-ASCII characters: give at "
        "least 32 printable ASCII characters"),
    "Jupyter token with a space": (inventory(group_vars={"dask_jupyter_token": "correct horse battery staple 1234"}),
                                   "dask_jupyter_token (host node1) is 33 characters long or holds spaces"),
    "mount over the collection's own files": (
        inventory(group_vars={"dask_mounts": [{"source": "/srv", "target": "/dask-tls"}]}),
        "Host node1: dask_mounts target '/dask-tls' overlaps '/dask-tls', where the collection mounts its own"),
    "mount source inside the data root": (
        inventory(group_vars={"dask_mounts": [{"source": "/var/lib/dask_cluster/validation/data",
                                               "target": "/data"}]}),
        "dask_mounts source '/var/lib/dask_cluster/validation/data' is in or above /var/lib/dask_cluster"),
    "mount source the machine lacks": (
        inventory(group_vars={"dask_mounts": [{"source": "/nonexistent/lab-data", "target": "/data"}]}),
        "Host node1: the dask_mounts source /nonexistent/lab-data does not exist on this machine"),
    "machines disagree on mount targets": (
        inventory(schedulers=("node1",), workers=("node2",),
                  host_vars={"node2": {"dask_mounts": [{"source": "/srv", "target": "/elsewhere"}]}}),
        "Collection-wide settings differ between machines"),
    "environment variable the collection sets": (
        inventory(group_vars={"dask_env": {"DASK_SCHEDULER_ADDRESS": "tcp://192.0.2.1:8786"}}),
        "dask_env sets DASK_SCHEDULER_ADDRESS, which the collection sets itself"),
    "environment value YAML reads as a boolean": (
        inventory(group_vars={"dask_env": {"USE_PYGEOS": True}}),
        "dask_env value of USE_PYGEOS must be a string: quote it in YAML"),
    "Jupyter token through the environment": (
        inventory(group_vars={"dask_env": {"JUPYTER_TOKEN": "short"}}),
        "dask_env sets JUPYTER_TOKEN, which the collection sets itself"),
    "worker resource of zero": (inventory(host_vars={"node1": {"dask_worker_resources": {"GPU": 0}}}),
                                "dask_worker_resources on host node1 must map names"),
    "worker resource name Dask would split": (
        inventory(host_vars={"node1": {"dask_worker_resources": {"BIG MEM": 1}}}),
        "dask_worker_resources on host node1 must map names"),
    "GPUs as a word Docker does not know": (inventory(host_vars={"node1": {"dask_worker_gpus": "some"}}),
                                            "dask_worker_gpus on host node1 must be all, a number of GPUs"),
    "zero GPUs": (inventory(host_vars={"node1": {"dask_worker_gpus": 0}}), "dask_worker_gpus on host node1 must be"),
    "build package that is a pip option": (
        inventory(group_vars={"dask_image_source": "build", "dask_image_packages": ["--index-url=http://192.0.2.9/"]}),
        "dask_image_packages item 1 '--index-url=http://192.0.2.9/' is not a pip requirement"),
    "build package from a URL": (
        inventory(group_vars={"dask_image_source": "build",
                              "dask_image_packages": ["humanize", "tool @ https://192.0.2.9/tool.whl"]}),
        "dask_image_packages item 2 'tool @ https://192.0.2.9/tool.whl' names a URL"),
    "build name with a tag": (
        inventory(group_vars={"dask_image_source": "build", "dask_image_build_name": "lab/dask:mine"}),
        "dask_image_build_name 'lab/dask:mine' an image name without tag or digest"),
    "build base the controller lacks": (
        inventory(group_vars={"dask_image_source": "build", "dask_image_build_base": "adhoc-test/absent:1"}),
        "dask_image_build_base 'adhoc-test/absent:1' is not an image of the controller's Docker engine"),
    "GPUs on a machine whose engine has no NVIDIA runtime": (
        inventory(host_vars={"node1": {"dask_worker_gpus": "all"}}),
        "Host node1: dask_worker_gpus is set, but its Docker engine has no NVIDIA runtime"),
}


@pytest.mark.parametrize("case", BAD_INPUTS, ids=list(BAD_INPUTS))
def test_bad_input_is_refused_before_any_machine_is_touched(inventory_file, case):
    inv, message = BAD_INPUTS[case]
    result = playbook("up", inventory_file(inv))
    output = result.stdout + result.stderr
    assert result.returncode != 0, output
    assert message in " ".join(output.split()), output
    assert "PLAY [Bring up the scheduler" not in output, "validation let the run reach the machines"
    assert cluster_containers(inv["all"]["vars"]["dask_cluster_name"]) == []


def test_ports_picked_in_a_row_pass_and_a_clash_counts_only_where_both_run(inventory_file):
    """The derived worker dashboard port (dashboard + 1 by default) must not clash with Jupyter's port the user
    set, and a worker machine without Jupyter may use Jupyter's port for its own dashboard. Check mode runs every
    check and creates nothing."""
    picked = {"dask_scheduler_port": 19886, "dask_dashboard_port": 19887, "dask_jupyter_port": 19888}
    in_a_row = playbook("up", inventory_file(inventory(group_vars=picked)), "--check")
    assert in_a_row.returncode == 0, in_a_row.stdout[-3000:] + in_a_row.stderr
    worker_only = inventory(schedulers=("node1",), workers=("node2",), group_vars=picked,
                            host_vars={"node2": {"dask_worker_dashboard_port": picked["dask_jupyter_port"]}})
    elsewhere = playbook("up", inventory_file(worker_only), "--check")
    assert elsewhere.returncode == 0, elsewhere.stdout[-3000:] + elsewhere.stderr
    assert cluster_containers(CLUSTER) == []


def test_a_limited_up_is_refused_before_any_machine_is_touched(inventory_file):
    inv = inventory(schedulers=("node1",), workers=("node1", "node2"))
    result = playbook("up", inventory_file(inv), "--limit", "node2")
    output = " ".join((result.stdout + result.stderr).split())
    assert result.returncode != 0, output
    assert "up.yml was run with --limit node2: it checks, starts and counts the whole cluster" in output
    assert cluster_containers(CLUSTER) == []


def test_a_container_of_the_user_holding_a_cluster_name_is_refused_and_kept(inventory_file):
    name = f"{CLUSTER}-scheduler"
    subprocess.run(["docker", "run", "-d", "--name", name, STANDIN_IMAGE, "sleep", "infinity"],
                   check=True, capture_output=True)
    try:
        result = playbook("up", inventory_file(inventory()))
        output = " ".join((result.stdout + result.stderr).split())
        assert result.returncode != 0, output
        assert f"a container named '{name}' exists that this collection did not create" in output
        running = subprocess.run(["docker", "inspect", "--format", "{{.State.Running}}", name],
                                 capture_output=True, text=True, check=True).stdout.strip()
        assert running == "true"
        assert cluster_containers(CLUSTER) == []
    finally:
        subprocess.run(["docker", "rm", "-f", name], capture_output=True)


def test_another_cluster_on_the_same_ports_is_refused_before_anything_changes(inventory_file):
    """Two clusters may share a machine, not its ports: the second is refused, naming cluster, container, ports."""
    name = "validation-neighbour"
    subprocess.run(["docker", "run", "-d", "--name", name, "--label", "io.github.adhoc.dask_cluster.cluster=neighbour",
                    "--label", "io.github.adhoc.dask_cluster.ports=18786,18787", STANDIN_IMAGE, "sleep", "infinity"],
                   check=True, capture_output=True)
    try:
        result = playbook("up", inventory_file(inventory()))
        output = " ".join((result.stdout + result.stderr).split())
        assert result.returncode != 0, output
        assert f"cluster 'neighbour' (container {name}) listens on 18786, 18787" in output, output[-3000:]
        assert "PLAY [Bring up the scheduler" not in output
        assert cluster_containers(CLUSTER) == []
        assert cluster_containers("neighbour") == [name]
    finally:
        subprocess.run(["docker", "rm", "-f", name], capture_output=True)


def test_a_port_held_by_another_program_is_refused_naming_its_setting(inventory_file):
    """The guide's JupyterLab on 8888, say: the cluster's container could not bind the port. Held here by this
    test's own listening socket, on the loopback address only (any address blocks a container on the host's
    network)."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", GOOD_VARS["dask_jupyter_port"]))
        listener.listen()
        result = playbook("up", inventory_file(inventory()))
    output = " ".join((result.stdout + result.stderr).split())
    assert result.returncode != 0, output
    assert ("Host node1: a program or container that is not cluster 'validation' (a JupyterLab or Dask scheduler "
            "started by hand, say) already holds port 18888 (dask_jupyter_port)") in output, output[-3000:]
    assert "PLAY [Bring up the scheduler" not in output
    assert cluster_containers(CLUSTER) == []


@pytest.mark.parametrize("docker_host, message", [
    ("unix:///nonexistent/docker.sock",
     "Docker does not answer on /nonexistent/docker.sock ([Errno 2] No such file or directory): start the Docker "
     "engine on this machine"),
    ("tcp://127.0.0.1:1", "DOCKER_HOST is tcp://127.0.0.1:1 on this machine; the collection reaches Docker on a unix "
                          "socket only"),
], ids=["engine down", "engine over tcp"])
def test_a_machine_whose_docker_cannot_be_reached_is_named_with_what_to_do(inventory_file, docker_host, message):
    """The first contact reads each machine's engine; an engine it cannot reach fails that machine, saying why."""
    result = playbook("up", inventory_file(inventory()), env={"DOCKER_HOST": docker_host})
    output = " ".join((result.stdout + result.stderr).split())
    assert result.returncode != 0, output
    assert "fatal: [node1]" in output and message in output, output[-3000:]
    assert "PLAY [Bring up the scheduler" not in output
    assert cluster_containers(CLUSTER) == []


def test_down_with_a_bad_cluster_name_on_one_machine_removes_nothing_anywhere(inventory_file):
    """down.yml checks every machine's cluster name before any machine's removal starts."""
    name = f"{CLUSTER}-worker"
    subprocess.run(["docker", "run", "-d", "--name", name, "--label", f"io.github.adhoc.dask_cluster.cluster={CLUSTER}",
                    "--label", "io.github.adhoc.dask_cluster.role=worker", STANDIN_IMAGE, "sleep", "infinity"],
                   check=True, capture_output=True)
    try:
        inv = inventory(schedulers=("node1",), workers=("node1", "node2"),
                        host_vars={"node2": {"dask_cluster_name": "Bad Name"}})
        result = playbook("down", inventory_file(inv))
        output = " ".join((result.stdout + result.stderr).split())
        assert result.returncode != 0, output
        assert "dask_cluster_name 'Bad Name' (host node2): it must be 1-40 characters" in output, output[-3000:]
        assert cluster_containers(CLUSTER) == [name]
    finally:
        subprocess.run(["docker", "rm", "-f", name], capture_output=True)


def refused_untouched(inventory_file, inv: dict, message: str) -> None:
    result = playbook("up", inventory_file(inv))
    output = " ".join((result.stdout + result.stderr).split())
    assert result.returncode != 0, output[-3000:]
    assert message in output, output[-3000:]
    assert "PLAY [Bring up the scheduler" not in output
    assert cluster_containers(CLUSTER) == []


def test_a_data_root_through_a_symbolic_link_is_refused_and_where_it_leads_is_untouched(inventory_file, tmp_path):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (tmp_path / "link").symlink_to(elsewhere)
    refused_untouched(inventory_file, inventory(group_vars={"dask_cluster_data_root": str(tmp_path / "link")}),
                      f"dask_cluster_data_root '{tmp_path / 'link'}' leads to '{elsewhere}' (a symbolic link on the "
                      "way)")
    assert list(elsewhere.iterdir()) == []


def test_a_cluster_directory_the_collection_did_not_make_is_refused_and_kept(inventory_file, tmp_path):
    """<data root>/<cluster name> that already holds someone's files: nothing in it is re-owned or removed."""
    theirs = tmp_path / CLUSTER
    theirs.mkdir()
    (theirs / "thesis.tex").write_text("years of work")
    before = {p.name: (p.stat().st_uid, p.stat().st_mode) for p in [theirs, *theirs.iterdir()]}
    refused_untouched(inventory_file, inventory(group_vars={"dask_cluster_data_root": str(tmp_path)}),
                      f"{theirs} exists and was not made by this collection")
    assert {p.name: (p.stat().st_uid, p.stat().st_mode) for p in [theirs, *theirs.iterdir()]} == before
    # Teardown refuses to remove anything there either.
    result = playbook("down", inventory_file(inventory(group_vars={"dask_cluster_data_root": str(tmp_path)})))
    assert result.returncode != 0 and "it was not made by this collection" in result.stdout, result.stdout[-3000:]
    assert (theirs / "thesis.tex").read_text() == "years of work"


def test_a_users_directory_the_containers_cannot_write_is_refused_and_not_re_owned(inventory_file, tmp_path):
    spill = tmp_path / "spill-disk"
    spill.mkdir(mode=0o700)
    os.chmod(spill, 0o700)  # root's, as a disk mounted by root is
    refused_untouched(inventory_file, inventory(group_vars={"dask_worker_local_directory": str(spill)}),
                      f"dask_worker_local_directory '{spill}' (owner 0:0, mode 0700) is not writable by the "
                      "containers' user 1000:100")
    status = spill.stat()
    assert (status.st_uid, status.st_gid, status.st_mode & 0o7777) == (0, 0, 0o700)


def test_down_with_a_data_root_that_climbs_out_removes_nothing(inventory_file, tmp_path):
    victim = tmp_path / "home" / CLUSTER / "jupyter"
    victim.mkdir(parents=True)
    (victim / "notes.txt").write_text("keep me")
    sneaky = f"{tmp_path}/data/../home"
    result = playbook("down", inventory_file(inventory(group_vars={"dask_cluster_data_root": sneaky})))
    output = " ".join((result.stdout + result.stderr).split())
    assert result.returncode != 0, output[-3000:]
    assert f"dask_cluster_data_root '{sneaky}' (host node1): it must be an absolute path without" in output
    assert (victim / "notes.txt").read_text() == "keep me"


def test_a_kept_jupyter_token_that_is_empty_or_short_is_refused_and_a_long_one_passes(inventory_file, tmp_path):
    """An empty token turns Jupyter's authentication off: the token file an earlier run left on the controller
    is never handed to Jupyter unless it holds 32 characters or more. A user's token of 32 passes (check mode)."""
    out = tmp_path / "out"
    out.mkdir()
    for kept in ("", "short"):
        (out / "jupyter_token").write_text(kept)
        refused_untouched(inventory_file, inventory(group_vars={"dask_cluster_output_dir": str(out)}),
                          f"The Jupyter token kept in {out}/jupyter_token on the controller (host node1) is shorter "
                          "than 32 characters")
        assert (out / "jupyter_token").read_text() == kept
    given = playbook("up", inventory_file(inventory(group_vars={"dask_cluster_output_dir": str(out),
                                                                "dask_jupyter_token": "x" * 32})), "--check")
    assert given.returncode == 0, given.stdout[-3000:] + given.stderr
    assert cluster_containers(CLUSTER) == []


@pytest.mark.parametrize("group", ["root", "with-a-member"])
def test_a_secrets_group_that_users_have_is_refused_before_anything_changes(inventory_file, group):
    """The group that reads the keys and token must be no one's: root's group, or a group with a member, would
    give the keys to those users."""
    made = group != "root"
    if made:
        name = f"dask-test-{os.getpid()}"
        subprocess.run(["groupadd", name], check=True)
        subprocess.run(["gpasswd", "-a", "nobody", name], check=True, capture_output=True)
    try:
        refused_untouched(inventory_file, inventory(group_vars={"dask_secrets_group": name if made else "root"}),
                          "it is the root group" if not made else "but users nobody have it")
    finally:
        if made:
            subprocess.run(["groupdel", name], check=True)
