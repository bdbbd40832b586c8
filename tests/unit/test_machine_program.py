"""The program the collection runs on each machine (plugins/plugin_utils/machine_program.py), called here
directly: how it finds the secrets group and describes the directories of keys and token, and what check mode
does on a machine that has no such group yet."""
import os
import uuid

import pytest
from collection import plugin

program = plugin("plugin_utils", "machine_program")

MISSING_GROUP = f"no-such-{uuid.uuid4().hex[:8]}"
# The collection runs it as root, and so do these tests (make test runs as root).
pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="the machine program runs as root")


def test_the_secrets_group_is_found_by_name_and_a_missing_one_is_none(tmp_path):
    (tmp_path / "tls").mkdir(mode=0o550)
    os.chmod(tmp_path / "tls", 0o550)
    found = program.describe_secrets("root", [str(tmp_path / "tls"), str(tmp_path / "jupyter")])
    assert found["gid"] == 0 and "root" in found["primary_of"]
    tls = found["paths"][str(tmp_path / "tls")]
    assert (tls["exists"], tls["dir"], tls["uid"], tls["gid"], tls["mode"]) == (True, True, 0, 0, 0o550)
    assert found["paths"][str(tmp_path / "jupyter")]["exists"] is False
    assert program.describe_secrets(MISSING_GROUP, []) == {"gid": None, "members": [], "primary_of": [], "paths": {}}


def test_a_group_the_machine_lacks_is_refused_outside_check_mode_and_would_change_in_it():
    with pytest.raises(program.JobError, match="dask_container_owner"):
        program.owner_ids("0", MISSING_GROUP)
    assert program.owner_ids("0", MISSING_GROUP, check_mode=True) == (0, -1)


def test_check_mode_reports_the_key_directory_for_a_group_yet_to_be_made_and_writes_nothing(tmp_path):
    root = tmp_path / "data" / "cluster"
    tls = root / "tls"
    result = program.directories({"check_mode": True, "root": str(root), "directories": [
        {"path": str(tls), "owner": "0", "group": MISSING_GROUP, "mode": 0o550,
         "files": [{"name": "key.pem", "content": "secret", "mode": 0o440}]}]})
    assert result == {"changed": True, "changed_paths": [str(tls)]}
    assert not (tmp_path / "data").exists()


def test_check_mode_reports_keys_placed_for_the_image_user_as_to_change_and_changes_nothing(tmp_path):
    """Keys as 0.8 placed them (uid 1000, 0500/0400), checked before the secrets group exists."""
    root = tmp_path / "cluster"
    tls = root / "tls"
    tls.mkdir(parents=True)
    (root / program.MARKER).touch()
    (tls / "key.pem").write_text("secret")
    for path, mode in ((tls / "key.pem", 0o400), (tls, 0o500)):
        os.chown(path, 1000, 100)
        os.chmod(path, mode)
    result = program.directories({"check_mode": True, "root": str(root), "directories": [
        {"path": str(tls), "owner": "0", "group": MISSING_GROUP, "mode": 0o550,
         "files": [{"name": "key.pem", "content": "secret", "mode": 0o440}]}]})
    assert result == {"changed": True, "changed_paths": [str(tls), str(tls / "key.pem")]}
    assert [(p.stat().st_uid, p.stat().st_mode & 0o777) for p in (tls, tls / "key.pem")] == [
        (1000, 0o500), (1000, 0o400)]
