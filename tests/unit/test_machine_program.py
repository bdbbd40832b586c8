"""The program the collection runs on each machine (plugins/plugin_utils/machine_program.py), called here
directly: how it finds the secrets group and describes the directories of keys and token, and what check mode
does on a machine that has no such group yet."""
import hashlib
import os
import socket
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


def directory(path, files=(), owner="0", group="0", mode=0o750):
    return {"path": str(path), "owner": owner, "group": group, "mode": mode,
            "files": [{"name": name, "content": content, "mode": file_mode} for name, content, file_mode in files]}


def attributes(path):
    status = os.lstat(path)
    return status.st_uid, status.st_gid, status.st_mode & 0o7777


def test_directories_are_made_with_their_files_owners_and_modes_and_a_second_run_changes_nothing(tmp_path):
    root = tmp_path / "dask"
    tls, spill = root / "tls", root / "worker-space"
    params = {"check_mode": False, "root": str(root), "directories": [
        directory(tls, [("key.pem", "secret", 0o440), ("cert.pem", "public", 0o444)], group="100", mode=0o550),
        directory(spill, owner="1000", group="100", mode=0o700)]}
    assert program.directories(params) == {"changed": True, "changed_paths": [str(tls), str(tls / "key.pem"),
                                                                              str(tls / "cert.pem"), str(spill)]}
    assert (root / program.MARKER).is_file()
    assert [attributes(p) for p in (tls, tls / "key.pem", tls / "cert.pem", spill)] == [
        (0, 100, 0o550), (0, 100, 0o440), (0, 100, 0o444), (1000, 100, 0o700)]
    assert (tls / "key.pem").read_text() == "secret"
    assert program.directories(params) == {"changed": False, "changed_paths": []}
    # One new content and one mode changed by hand: exactly those two are put right.
    params["directories"][0]["files"][1]["content"] = "renewed"
    os.chmod(spill, 0o755)
    assert program.directories(params)["changed_paths"] == [str(tls / "cert.pem"), str(spill)]
    assert (tls / "cert.pem").read_text() == "renewed" and attributes(spill) == (1000, 100, 0o700)


def test_a_users_directory_outside_the_root_is_used_as_it_is_or_refused(tmp_path):
    root, notebooks = tmp_path / "data" / "dask", tmp_path / "notebooks"
    notebooks.mkdir()
    os.chmod(notebooks, 0o777)
    params = {"check_mode": False, "root": str(root), "directories": [directory(notebooks, owner="1000", mode=0o700)]}
    assert program.directories(params) == {"changed": False, "changed_paths": []}
    assert attributes(notebooks) == (0, 0, 0o777)  # not re-owned
    os.chmod(notebooks, 0o755)
    with pytest.raises(program.JobError, match="is not a directory that user 1000, group 0 may write"):
        program.directories(params)


def test_nothing_is_written_through_a_link_or_into_a_directory_the_collection_did_not_make(tmp_path):
    root = tmp_path / "dask"
    root.mkdir()
    (root / "thesis.tex").write_text("")
    with pytest.raises(program.JobError, match="was not made by this collection"):
        program.directories({"check_mode": False, "root": str(root), "directories": []})
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "link").symlink_to(tmp_path / "elsewhere")
    with pytest.raises(program.JobError, match="through a symbolic link"):
        program.directories({"check_mode": False, "root": str(tmp_path / "link"), "directories": []})
    root = tmp_path / "ours"
    (root / "tls").mkdir(parents=True)
    (root / "tls" / "key.pem").symlink_to(tmp_path / "thesis.tex")
    with pytest.raises(program.JobError, match="key.pem is not a regular file"):
        program.directories({"check_mode": False, "root": str(root), "directories": [
            directory(root / "tls", [("key.pem", "secret", 0o400)])]})
    assert not (tmp_path / "thesis.tex").exists()


def test_an_atomic_write_replaces_a_link_at_the_target_and_leaves_what_it_pointed_at(tmp_path):
    (tmp_path / "victim").write_text("keep")
    (tmp_path / "key.pem").symlink_to(tmp_path / "victim")
    program.write_atomically(str(tmp_path / "key.pem"), b"secret", os.getuid(), os.getgid(), 0o400)
    assert not (tmp_path / "key.pem").is_symlink() and (tmp_path / "key.pem").read_text() == "secret"
    assert (tmp_path / "victim").read_text() == "keep"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["key.pem", "victim"]  # no temporary file left


def test_only_a_small_regular_file_is_read(tmp_path):
    assert program.read_small_file(str(tmp_path / "missing")) is None
    (tmp_path / "big").write_bytes(b"x" * (program.MAX_FILE_BYTES + 1))
    with pytest.raises(program.JobError, match="not a small regular file"):
        program.read_small_file(str(tmp_path / "big"))
    with pytest.raises(program.JobError, match="not a small regular file"):
        program.read_small_file(str(tmp_path))


def test_the_engine_is_reached_on_docker_hosts_unix_socket_only(monkeypatch):
    monkeypatch.delenv("DOCKER_HOST", raising=False)
    assert program.socket_path() == program.DEFAULT_SOCKET
    monkeypatch.setenv("DOCKER_HOST", "unix:///run/user/1000/docker.sock")
    assert program.socket_path() == "/run/user/1000/docker.sock"
    monkeypatch.setenv("DOCKER_HOST", "tcp://192.0.2.1:2375")
    with pytest.raises(program.JobError, match="unix socket only"):
        program.socket_path()


def test_a_port_something_listens_on_is_listed():
    for family, address in ((socket.AF_INET, "127.0.0.1"), (socket.AF_INET6, "::1")):
        try:
            listener = socket.socket(family, socket.SOCK_STREAM)
            listener.bind((address, 0))
        except OSError:  # no IPv6 here
            continue
        with listener:
            listener.listen()
            assert listener.getsockname()[1] in program.listening_ports()


def test_a_small_regular_file_has_its_sha256_and_anything_else_none(tmp_path):
    cert = tmp_path / "cert.pem"
    cert.write_bytes(b"-----BEGIN CERTIFICATE-----\n")
    (tmp_path / "link.pem").symlink_to(cert)
    big = tmp_path / "big"
    big.write_bytes(b"0" * (program.MAX_FILE_BYTES + 1))
    os.mkfifo(tmp_path / "fifo")
    answer = program.file_digest
    assert answer(str(cert)) == hashlib.sha256(cert.read_bytes()).hexdigest()
    assert answer(str(tmp_path / "link.pem")) is None
    assert answer(str(big)) is None
    assert answer(str(tmp_path)) is None
    assert answer(str(tmp_path / "fifo")) is None
    assert answer(str(tmp_path / "missing")) is None
