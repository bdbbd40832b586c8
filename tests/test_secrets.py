"""Secrets stay out of Ansible's output at every verbosity: the Jupyter token, the private keys, and what other
people's containers on the machine were started with. The summary is the one place the token shows, and check
mode prints none. Run here in check mode at -vvv with every task's arguments displayed: every check, the
certificates and every task that carries a key or the token run, and nothing is created."""
from __future__ import annotations

import subprocess

from conftest import STANDIN_IMAGE, cluster_containers, playbook

CLUSTER = "secrets"
BYSTANDER = "secrets-bystander"
THEIRS = "their-own-secret-7f3a9c"


def test_no_token_key_or_other_containers_setting_shows_at_any_verbosity(inventory_file, tmp_path):
    subprocess.run(["docker", "run", "-d", "--name", BYSTANDER, "-e", f"API_KEY={THEIRS}", "--label",
                    f"owner.token={THEIRS}", STANDIN_IMAGE, "sleep", f"{THEIRS}-infinity"],
                   check=True, capture_output=True)
    out = tmp_path / "out"
    try:
        inv = inventory_file({"all": {
            "hosts": {"node1": {"ansible_connection": "local",
                                "ansible_python_interpreter": "{{ ansible_playbook_python }}"}},
            "children": {"dask_scheduler": {"hosts": {"node1": None}}, "dask_workers": {"hosts": {"node1": None}}},
            "vars": {"dask_cluster_name": CLUSTER, "dask_image": STANDIN_IMAGE, "dask_image_pull": "never",
                     "dask_scheduler_host": "127.0.0.1", "dask_scheduler_port": 48786, "dask_dashboard_port": 48787,
                     "dask_jupyter_port": 48888, "dask_cluster_output_dir": str(out),
                     "dask_cluster_data_root": str(tmp_path / "data")}}})
        result = playbook("up", inv, "--check", "-vvv", env={"ANSIBLE_DISPLAY_ARGS_TO_STDOUT": "True"})
        output = result.stdout + result.stderr
        assert result.returncode == 0, output[-5000:]
        # The run did issue the certificates and the token it would place (the controller's own state).
        token = (out / "jupyter_token").read_text().strip()
        keys = [out / "client-key.pem", out / "hosts" / "node1" / "key.pem"]
        assert len(token) >= 32 and all(k.is_file() for k in keys)
        assert "PRIVATE KEY" not in output
        for key in keys:  # any line of the key's body
            assert not [line for line in key.read_text().splitlines()[1:-1] if line in output], key
        assert token not in output
        assert THEIRS not in output
        assert cluster_containers(CLUSTER) == []
    finally:
        subprocess.run(["docker", "rm", "-f", BYSTANDER], capture_output=True)
