"""The embedded case behind `make up`: inventories/local brings a cluster up on this very machine, a Client
runs work on it, a re-run changes nothing, and down.yml removes exactly what up.yml made."""
from __future__ import annotations

import grp
import json
import os
import re
import socket
import ssl
import subprocess
import urllib.request
import warnings
from pathlib import Path

import pytest
from conftest import ROOT, STANDIN_IMAGE, cluster_containers, playbook

CLUSTER = "localtest"


def settings(out_dir) -> list[str]:
    """Ports moved off the defaults, so that a user's own cluster on this machine is left alone."""
    return ["-e", json.dumps({
        "dask_cluster_name": CLUSTER, "dask_image": STANDIN_IMAGE, "dask_image_pull": "never",
        "dask_scheduler_host": "127.0.0.1", "dask_scheduler_port": 28786, "dask_dashboard_port": 28787,
        "dask_jupyter_port": 28888, "dask_worker_nworkers": 2, "dask_cluster_output_dir": str(out_dir)})]


def test_check_mode_on_an_empty_machine_reports_what_it_would_create_and_creates_nothing(tmp_path):
    result = playbook("up", ROOT / "inventories/local", "--check", *settings(tmp_path))
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-4000:]
    for container in ("scheduler", "jupyter", "worker"):
        assert re.search(rf"TASK \[[^]]*{container} container[^]]*\][^\n]*\nchanged", output, re.I), container
    assert cluster_containers(CLUSTER) == []
    assert not (tmp_path / "connection.json").exists()


@pytest.fixture(scope="module")
def local_cluster(tmp_path_factory):
    """up.yml on inventories/local."""
    out_dir = tmp_path_factory.mktemp("dask")
    extra = settings(out_dir)
    first = playbook("up", ROOT / "inventories/local", *extra)
    try:
        yield first, extra, out_dir
    finally:
        playbook("down", ROOT / "inventories/local", *extra)


def recap_changed(output: str) -> int:
    return sum(int(n) for n in re.findall(r"changed=(\d+)", output))


def test_up_brings_the_cluster_up_on_this_machine(local_cluster):
    first, _, out_dir = local_cluster
    assert first.returncode == 0, first.stdout + first.stderr
    assert "Dask cluster 'localtest' is up." in first.stdout
    assert sorted(cluster_containers(CLUSTER)) == [f"{CLUSTER}-jupyter", f"{CLUSTER}-scheduler", f"{CLUSTER}-worker"]
    # TLS is on by default, also on one machine.
    assert json.loads((out_dir / "connection.json").read_text())["address"] == "tls://127.0.0.1:28786"


def machine_address() -> str:
    """This machine's first address that is not loopback: where a neighbour on its network reaches it."""
    out = subprocess.run(["ip", "-4", "-o", "addr", "show", "scope", "global"], capture_output=True, text=True,
                         check=True).stdout
    return out.split()[3].split("/")[0]


def connects(address: str, port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(5)
        return sock.connect_ex((address, port)) == 0


def test_the_dashboard_listens_on_this_machines_loopback_only_and_the_summary_says_so(local_cluster):
    """Dask's dashboard has no login: with TLS (the default) it stays off the network. On this machine no
    tunnel is needed, and the summary and connection.json say so."""
    first, _, out_dir = local_cluster
    connection = json.loads((out_dir / "connection.json").read_text())
    assert connection["dashboard_link"] == "https://127.0.0.1:28787/status"
    assert connection["ssh_tunnel"] is None
    words = " ".join(first.stdout.split())  # the YAML result format folds long lines
    assert "Dashboard: https://127.0.0.1:28787/status (loopback only, on this machine)" in words, first.stdout
    assert "Tunnel:" not in words
    address = machine_address()
    assert connects(address, 28786), address  # the scheduler answers on the network...
    assert not connects(address, 28787), address  # ...its dashboard does not
    context = ssl.create_default_context(cafile=str(out_dir / "ca.pem"))  # it names 127.0.0.1
    assert urllib.request.urlopen("https://127.0.0.1:28787/health", timeout=10, context=context).read() == b"ok"


def bundle_security(out_dir):
    """distributed.Security from the bundle connection.json names (paths relative to its folder)."""
    from distributed import Security

    bundle = json.loads((out_dir / "connection.json").read_text())["security"]
    return Security(**{k: str(out_dir / v) if k.startswith("tls_") else v for k, v in bundle.items()})


def fingerprint(path) -> bytes:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes

    return x509.load_pem_x509_certificate(path.read_bytes()).fingerprint(hashes.SHA256())


def test_a_client_with_the_bundle_counts_both_local_workers_and_runs_work(local_cluster):
    from distributed import Client

    _, _, out_dir = local_cluster
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the image's Python differs in its patch level only
        with Client("tls://127.0.0.1:28786", security=bundle_security(out_dir), timeout=30) as client:
            names = sorted(str(w["name"]) for w in client.scheduler_info(n_workers=-1)["workers"].values())
            assert names == ["localhost-0", "localhost-1"]
            assert client.submit(sum, range(101)).result() == 5050


def play_output(output: str, play: str) -> str:
    """What the default callback printed for one play, up to the next."""
    assert f"PLAY [{play}]" in output, output
    return output.split(f"PLAY [{play}]", 1)[1].split("\nPLAY ", 1)[0]


def test_a_rerun_changes_nothing_and_leaves_the_worker_machine_out_of_the_worker_plays(local_cluster):
    first, extra, _ = local_cluster
    again = playbook("up", ROOT / "inventories/local", *extra)
    assert again.returncode == 0, again.stdout + again.stderr
    assert recap_changed(again.stdout) == 0, again.stdout
    # Its worker container runs as asked, so the plan puts it in neither worker play; the first run, which created
    # the container, ran the worker role there.
    for play in ("Bring up the workers", "Roll the workers whose running containers change, one machine at a time"):
        assert "skipping: no hosts matched" in play_output(again.stdout, play), again.stdout
    assert "TASK [adhoc.dask_cluster.dask_worker : " in play_output(first.stdout, "Bring up the workers"), first.stdout


def container_state(name: str) -> dict:
    return json.loads(subprocess.run(["docker", "inspect", "--format", "{{json .State}}", name],
                                     capture_output=True, text=True, check=True).stdout)


def container_id(name: str) -> str:
    return subprocess.run(["docker", "inspect", "--format", "{{.Id}}", name], capture_output=True, text=True,
                          check=True).stdout.strip()


def test_a_paused_container_is_resumed_and_a_paused_scheduler_a_change_would_recreate_is_refused(local_cluster):
    """A paused container holds all it held (the scheduler its tasks, the workers their results): up.yml resumes
    one that is otherwise as asked, the same container, and refuses to recreate a paused scheduler for a changed
    setting, as one that cannot say what it holds."""
    _, extra, _ = local_cluster
    scheduler, worker = f"{CLUSTER}-scheduler", f"{CLUSTER}-worker"
    before = {name: container_id(name) for name in (scheduler, worker)}
    subprocess.run(["docker", "pause", scheduler, worker], capture_output=True, check=True)
    try:
        resumed = playbook("up", ROOT / "inventories/local", *extra)
        assert resumed.returncode == 0, resumed.stdout[-4000:] + resumed.stderr
        for name in (scheduler, worker):
            state = container_state(name)
            assert state["Running"] and not state["Paused"], (name, state)
            assert container_id(name) == before[name]
        assert "Restarted:" not in resumed.stdout

        subprocess.run(["docker", "pause", scheduler], capture_output=True, check=True)
        changed = ["-e", json.dumps({"dask_scheduler_extra_args": ["--pid-file", "/tmp/scheduler.pid"]})]
        refused = playbook("up", ROOT / "inventories/local", *extra, *changed)
        output = " ".join((refused.stdout + refused.stderr).split())
        assert refused.returncode != 0, output[-4000:]
        assert ("This run would recreate the scheduler on localhost for a change of the scheduler's settings, but "
                "the running scheduler did not answer what it holds") in output, output[-4000:]
        assert "-e dask_allow_restart=true" in output
        assert container_state(scheduler)["Paused"] and container_id(scheduler) == before[scheduler]
    finally:
        subprocess.run(["docker", "unpause", scheduler, worker], capture_output=True)


def container_env(name: str) -> list[str]:
    return json.loads(subprocess.run(["docker", "inspect", "--format", "{{json .Config.Env}}", name],
                                     capture_output=True, text=True, check=True).stdout)


def test_dask_env_reaches_every_container_and_ansible_never_prints_a_value(local_cluster):
    """Values of dask_env are in the containers (docker inspect shows them to whoever may run it) and nowhere in
    Ansible's output, verbose and with --diff: not when they are set, not when check mode shows a change of value,
    and not when dask_env is emptied (the containers' old environment would show in results and diffs)."""
    _, extra, _ = local_cluster
    secret, changed = f"s3cret-{os.urandom(8).hex()}", f"ch4nged-{os.urandom(8).hex()}"
    verbose = ("-vvv", "--diff")
    try:
        up = playbook("up", ROOT / "inventories/local", *extra, "-e", json.dumps({"dask_env": {"LOCAL_SECRET": secret}}),
                      *verbose)
        output = up.stdout + up.stderr
        assert up.returncode == 0, output[-4000:]
        assert secret not in output
        for container in cluster_containers(CLUSTER):
            assert f"LOCAL_SECRET={secret}" in container_env(container), container
        for dask_env in ({"LOCAL_SECRET": changed}, {}):
            check = playbook("up", ROOT / "inventories/local", *extra, "-e", json.dumps({"dask_env": dask_env}),
                             "--check", *verbose)
            output = check.stdout + check.stderr
            assert check.returncode == 0, output[-4000:]
            assert secret not in output and changed not in output, dask_env
            assert recap_changed(output) > 0  # the change is reported, without its values
    finally:
        removed = playbook("up", ROOT / "inventories/local", *extra, "-e", json.dumps({"dask_env": {}}), *verbose)
    output = removed.stdout + removed.stderr
    assert removed.returncode == 0, output[-4000:]
    assert secret not in output
    assert not any("LOCAL_SECRET" in line for container in cluster_containers(CLUSTER)
                   for line in container_env(container))


def test_keys_and_token_found_with_other_owners_are_given_back_to_root_and_the_secrets_group(local_cluster):
    """As 0.8 left them (the image user's, uid 1000, which a workstation's first human user often has): a re-run
    puts them back, although every container still runs with the same certificate and token, and the cluster
    keeps working."""
    _, extra, out_dir = local_cluster
    cluster_dir = Path("/var/lib/dask_cluster") / CLUSTER
    secrets = {cluster_dir / "tls": "key.pem", cluster_dir / "jupyter": "token"}
    for directory, name in secrets.items():
        for path, mode in ((directory, 0o500), (directory / name, 0o400)):
            os.chown(path, 1000, 100)
            os.chmod(path, mode)
    again = playbook("up", ROOT / "inventories/local", *extra)
    assert again.returncode == 0, again.stdout + again.stderr
    gid = grp.getgrnam("dask-cluster").gr_gid
    for directory, name in secrets.items():
        for path, mode in ((directory, 0o550), (directory / name, 0o440)):
            status = path.stat()
            assert (status.st_uid, status.st_gid, status.st_mode & 0o7777) == (0, gid, mode), path
    test_a_client_with_the_bundle_counts_both_local_workers_and_runs_work(local_cluster)


def test_the_same_cluster_name_from_another_directory_is_refused_and_the_running_cluster_kept(local_cluster,
                                                                                              tmp_path):
    """A second controller, or the same user in another folder (another .dask/), asks for a cluster of the same
    name: refused before anything changes, naming both identities; the running cluster and its clients go on."""
    from distributed import Client

    _, extra, out_dir = local_cluster
    ids = subprocess.run(["docker", "ps", "-q", "--filter", f"label=io.github.adhoc.dask_cluster.cluster={CLUSTER}"],
                         capture_output=True, text=True, check=True).stdout.split()
    elsewhere = tmp_path / "elsewhere"
    result = playbook("up", ROOT / "inventories/local", *extra, "-e", f"dask_cluster_output_dir={elsewhere}")
    output = " ".join((result.stdout + result.stderr).split())
    ours, theirs = (out_dir / "cluster_id").read_text().strip(), (elsewhere / "cluster_id").read_text().strip()
    assert result.returncode != 0, output[-4000:]
    assert (f"Host localhost runs cluster '{CLUSTER}' started from another directory or controller (identity {ours}; "
            f"this run's, in {elsewhere}/cluster_id, is {theirs})") in output, output[-4000:]
    assert not (elsewhere / "ca.pem").exists()
    assert subprocess.run(["docker", "ps", "-q", "--filter", f"label=io.github.adhoc.dask_cluster.cluster={CLUSTER}"],
                          capture_output=True, text=True, check=True).stdout.split() == ids
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with Client("tls://127.0.0.1:28786", security=bundle_security(out_dir), timeout=30) as client:
            assert client.submit(sum, [1, 1]).result() == 2


def test_status_lists_every_certificate_and_warns_of_one_within_the_renewal_window(local_cluster):
    """status.yml on the TLS cluster: the CA's, the client's and the machine's certificates with the dates they
    carry; with a renewal window longer than what they have left, it fails naming each, and changes nothing."""
    from cryptography import x509

    _, extra, out_dir = local_cluster
    files = {"CA": "ca.pem", "client": "client-cert.pem", "machine localhost": "hosts/localhost/cert.pem"}
    expiry = {which: x509.load_pem_x509_certificate((out_dir / name).read_bytes()).not_valid_after_utc.strftime(
        "%Y-%m-%d %H:%M:%S UTC") for which, name in files.items()}
    healthy = playbook("status", ROOT / "inventories/local", *extra)
    assert healthy.returncode == 0, healthy.stdout + healthy.stderr
    status = json.loads((out_dir / "status.json").read_text())
    assert {which: c["not_after"] for which, c in status["certificates"].items()} == expiry
    assert status["scheduler"]["address"] == "tls://127.0.0.1:28786"
    before = cluster_containers(CLUSTER)
    # Certificates valid for 800 days, renewed within 799: every one but the CA's is due.
    due = playbook("status", ROOT / "inventories/local", *extra, "-e", "dask_tls_renew_days=799",
                   "-e", "dask_tls_cert_days=800")
    text = " ".join(due.stdout.split())
    assert due.returncode != 0, due.stdout + due.stderr
    for which in ("client", "machine localhost"):
        assert f"the {which} certificate expires on {expiry[which]}" in text, text[-3000:]
    assert "the CA certificate expires" not in text
    assert recap_changed(due.stdout) == 0 and cluster_containers(CLUSTER) == before


def test_a_certificate_near_expiry_is_renewed_and_the_cluster_keeps_working(local_cluster):
    from distributed import Client

    _, extra, out_dir = local_cluster
    machine_cert = out_dir / "hosts" / "localhost" / "cert.pem"
    before = fingerprint(machine_cert)
    # Every certificate has fewer than 400 days left, so each counts as near expiry; the renewed ones get 800
    # (a renewal window must stay shorter than a certificate's life).
    renew = playbook("up", ROOT / "inventories/local", *extra, "-e", "dask_tls_renew_days=400",
                     "-e", "dask_tls_cert_days=800")
    assert renew.returncode == 0, renew.stdout + renew.stderr
    assert fingerprint(machine_cert) != before
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with Client("tls://127.0.0.1:28786", security=bundle_security(out_dir), timeout=30) as client:
            assert client.submit(sum, [1, 2]).result() == 3


def test_rotating_the_ca_locks_out_the_old_bundle(local_cluster, tmp_path):
    from distributed import Client

    _, extra, out_dir = local_cluster
    old = tmp_path / "old"
    old.mkdir()
    for name in ("connection.json", "ca.pem", "client-cert.pem", "client-key.pem"):
        (old / name).write_bytes((out_dir / name).read_bytes())
    rotate = playbook("up", ROOT / "inventories/local", *extra, "-e", "dask_tls_rotate_ca=true")
    assert rotate.returncode == 0, rotate.stdout + rotate.stderr
    assert fingerprint(out_dir / "ca.pem") != fingerprint(old / "ca.pem")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with Client("tls://127.0.0.1:28786", security=bundle_security(out_dir), timeout=30) as client:
            assert client.submit(sum, [2, 3]).result() == 5
        with pytest.raises((OSError, TimeoutError)):
            Client("tls://127.0.0.1:28786", security=bundle_security(old), timeout=5)


def test_down_removes_the_cluster_and_nothing_else(local_cluster):
    _, extra, _ = local_cluster
    subprocess.run(["docker", "run", "-d", "--name", "localtest-bystander", STANDIN_IMAGE, "sleep", "infinity"],
                   check=True, capture_output=True)
    cluster_dir = Path("/var/lib/dask_cluster") / CLUSTER  # dask_cluster_data_root's default
    ours = ("tls", "jupyter", "worker-space")  # keys, the Jupyter token, the spill space
    assert all((cluster_dir / name).is_dir() for name in (*ours, "notebooks"))
    try:
        down = playbook("down", ROOT / "inventories/local", *extra)
        assert down.returncode == 0, down.stdout + down.stderr
        assert cluster_containers(CLUSTER) == []
        assert not any((cluster_dir / name).exists() for name in ours)
        assert (cluster_dir / "notebooks").is_dir(), "the notebook directory holds the user's work: it stays"
        state = subprocess.run(["docker", "inspect", "--format", "{{.State.Running}}", "localtest-bystander"],
                               capture_output=True, text=True, check=True).stdout.strip()
        assert state == "true"
        again = playbook("down", ROOT / "inventories/local", *extra)
        assert again.returncode == 0 and recap_changed(again.stdout) == 0, again.stdout
    finally:
        subprocess.run(["docker", "rm", "-f", "localtest-bystander"], capture_output=True)
