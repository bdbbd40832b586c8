"""The filters that hold what the roles' vars files derive: which secrets are placed as the collection places
them, a certificate's names, and which machines' workers the scheduler does not count."""
import importlib.util
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / ".collections"))  # the filters import the collection's plugin_utils


def load(name):
    spec = importlib.util.spec_from_file_location(name, ROOT / "plugins" / "filter" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


paths, tls, workers = load("dask_paths"), load("dask_tls"), load("dask_workers")


def described(uid=0, gid=990, mode=0o440, directory=False, exists=True):
    return {"exists": exists, "uid": uid, "gid": gid, "mode": mode, "dir": directory}


def test_only_secrets_of_root_and_the_group_with_the_modes_asked_count_as_placed():
    found = {"/c/tls": described(mode=0o550, directory=True), "/c/tls/key.pem": described(),
             "/c/jupyter": described(uid=1000, mode=0o550, directory=True),
             "/c/jupyter/token": described(gid=100), "/c/other": described(mode=0o444),
             "/c/gone": described(exists=False)}
    assert paths.dask_secrets_placed(found, "990", "0550", "0440") == ["/c/tls", "/c/tls/key.pem"]
    assert paths.dask_secrets_placed(found, 990, "0750", "0440") == ["/c/tls/key.pem"]


def test_a_group_not_made_yet_places_nothing_and_an_unread_machine_has_nothing():
    found = {"/c/tls": described(mode=0o550, directory=True)}
    assert paths.dask_secrets_placed(found, "dask-cluster", "0550", "0440") == []
    assert paths.dask_secrets_placed(None, 990, "0550", "0440") == []


def test_certificate_names_are_ip_or_dns_once_each_in_order():
    names = ["127.0.0.1", "localhost", "lab0", "10.0.0.5", "", "lab0", "fd00::1", "999.1.1.1"]
    assert tls.dask_subject_alt_names(names) == ["IP:127.0.0.1", "DNS:localhost", "DNS:lab0", "IP:10.0.0.5",
                                                 "IP:fd00::1", "DNS:999.1.1.1"]


def test_machines_missing_workers_are_those_that_answered_with_a_name_not_counted():
    expected = {"a": ["a"], "b": ["b-0", "b-1"], "c": ["c"], "d": [7]}
    assert workers.dask_hosts_missing(expected, ["a", "b-0", "7"], ["c"]) == ["b"]
    assert workers.dask_hosts_missing(expected, ["a", "b-0", "b-1", "c", "7"], []) == []
