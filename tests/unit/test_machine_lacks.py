"""__dask_machine_lacks: which machines up.yml's entry point `prepare` runs on, rendered by ansible-playbook from the
dask role's own vars for machines described as dask_machine_info describes them (a scheduler's machine and two
workers). A machine that lacks nothing costs one skipped task on a re-run; one that lacks something must get it."""
import json

import pytest
from collection import ROOT, collections_path
from conftest import BIN, run

PLAYBOOK = ROOT / "tests" / "unit" / "playbooks" / "machine_lacks.yml"
IMAGE = "registry.example/team/gds:1"
SECRETS = {"gid": 995, "members": [], "primary_of": [], "paths": {}}


def holding(image_id: str | None) -> dict:
    """A machine's read: the images it holds under IMAGE (none for None), its secrets group made."""
    images = [] if image_id is None else [{"Id": image_id, "RepoTags": [IMAGE], "RepoDigests": []}]
    return {"images": images, "secrets": SECRETS, "containers": []}


def render(tmp_path, machines: dict, **settings) -> dict:
    """{machine: {'lacks': [...], 'image_due': bool}} for lab0 (dask_scheduler) and the workers given."""
    inventory = {"all": {"vars": {"ansible_connection": "local"},
                         "hosts": {name: {"__dask_machine": machine} for name, machine in machines.items()},
                         "children": {"dask_scheduler": {"hosts": {"lab0": None}},
                                      "dask_workers": {"hosts": {name: None for name in machines if name != "lab0"}}}}}
    (tmp_path / "hosts.json").write_text(json.dumps(inventory))
    result = run(str(BIN / "ansible-playbook"), str(PLAYBOOK), "-i", str(tmp_path / "hosts.json"),
                 # Extra vars: the playbook reads the role's defaults as a vars file, which inventory vars cannot
                 # override.
                 "-e", json.dumps({"work": str(tmp_path), "dask_image": IMAGE, "dask_tls_enabled": False, **settings}),
                 env={"ANSIBLE_COLLECTIONS_PATH": str(collections_path(tmp_path / "collections"))}, timeout=300)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    return {name: json.loads((tmp_path / f"{name}.json").read_text()) for name in machines}


def test_machines_that_hold_the_schedulers_image_and_the_group_lack_nothing(tmp_path):
    rendered = render(tmp_path, {name: holding("sha256:a") for name in ("lab0", "lab1", "lab2")})
    assert rendered == {name: {"lacks": [], "image_due": False} for name in ("lab0", "lab1", "lab2")}


@pytest.mark.parametrize("pull", ["missing", "always"])
def test_a_machine_lacking_the_image_or_holding_another_one_gets_the_image_step(tmp_path, pull):
    rendered = render(tmp_path, {"lab0": holding("sha256:a"), "lab1": holding(None), "lab2": holding("sha256:b")},
                      dask_image_pull=pull)
    assert rendered["lab1"]["lacks"] == rendered["lab2"]["lacks"] == ["the image"]
    # always asks the registry everywhere, the scheduler's machine included
    assert rendered["lab0"]["lacks"] == (["the image"] if pull == "always" else [])


def test_when_the_schedulers_machine_lacks_the_image_every_machine_gets_the_image_step(tmp_path):
    # The scheduler's machine chooses the cluster's digest: a machine holding something under the name must be
    # brought in line with it, and one lacking it must pull it.
    rendered = render(tmp_path, {"lab0": holding(None), "lab1": holding(None), "lab2": holding("sha256:b")})
    assert all(found["lacks"] == ["the image"] for found in rendered.values()), rendered


def test_with_pull_never_only_an_unread_machine_is_due_and_a_missing_group_is_lacked(tmp_path):
    unread = {"secrets": {**SECRETS, "gid": None}, "containers": []}  # no listing of images, no group yet
    rendered = render(tmp_path, {"lab0": holding("sha256:a"), "lab1": holding(None), "lab2": unread},
                      dask_image_pull="never")
    assert rendered["lab0"]["lacks"] == rendered["lab1"]["lacks"] == []
    assert rendered["lab2"]["lacks"] == ["the secrets group", "the image"]
