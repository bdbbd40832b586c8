"""The action plugins that need no Docker, run for real by ansible-playbook on this machine (playbooks/actions.yml,
connection local): dask_check's order, templating and argument-spec validation, dask_certificate's issuing, and
dask_directories through the machine program. Their small pure helpers are called directly."""
import datetime
import ipaddress
import json
import os
import stat

import pytest
from ansible.errors import AnsibleActionFail
from collection import ROOT, collections_path, plugin
from conftest import BIN, run
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

PLAYBOOK = ROOT / "tests" / "unit" / "playbooks" / "actions.yml"


def make_ca(directory):
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "test CA")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=30))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    (directory / "ca.pem").write_bytes(cert.public_bytes(Encoding.PEM))
    (directory / "ca-key.pem").write_bytes(key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()))
    return cert


@pytest.fixture(scope="module")
def played(tmp_path_factory):
    """The playbook's registered results, its working directory and the CA it issued with."""
    work = tmp_path_factory.mktemp("actions")
    ca = make_ca(work)
    result = run(str(BIN / "ansible-playbook"), str(PLAYBOOK), "-i", "localhost,",
                 "-e", json.dumps({"work": str(work), "uid": os.getuid(), "gid": os.getgid()}),
                 env={"ANSIBLE_COLLECTIONS_PATH": str(collections_path(tmp_path_factory.mktemp("collections")))},
                 timeout=300)
    assert result.returncode == 0, result.stdout[-5000:] + result.stderr[-5000:]
    return json.loads((work / "results.json").read_text()), work, ca


def test_checks_that_hold_pass_and_record_their_values_without_templating_the_messages(played):
    results = played[0]
    assert results["checks_hold"]["msg"] == "All 2 checks passed"
    assert results["checks_hold"]["changed"] is False and not results["checks_hold"]["failed"]
    assert results["checks_hold"]["record"] == {"doubled": 6, "backslash": "a\\b"}


def test_the_first_failing_check_ends_the_task_with_its_own_message(played):
    failed = played[0]["second_fails"]
    assert failed["failed"] is True
    assert failed["msg"] == "nworkers is 3: give more than 5"
    assert failed["assertion"] == "nworkers | int > 5"
    assert "record" not in failed  # its template would have failed: it is not rendered unless all checks hold


def test_checks_that_hold_template_a_variable_they_share_once_and_a_failure_still_names_its_condition(played):
    results, work = played[0], played[1]
    # Three conditions and a record, one templating.
    assert (work / "counted-hold").read_text().splitlines() == ["held"]
    assert results["shared_hold"]["record"] == {"held": True, "nested": [False, "plain", 2]}
    # A record that is no expression is templated on its own: once with the checks, once for the record.
    assert results["shared_mixed"]["record"] == {"mixed": "held: True", "unsafe": "{{ counted }}"}
    assert len((work / "counted-mixed").read_text().splitlines()) == 2
    failed = results["shared_fails"]
    assert failed["failed"] is True and failed["msg"] == "the second check"
    assert failed["assertion"] == "not counted"  # the condition after it, which cannot be evaluated, is not reached
    # Once together (which fails), then once for each condition up to the failing one.
    assert len((work / "counted-fail").read_text().splitlines()) == 3


def test_a_condition_that_is_no_expression_on_its_own_fails_though_joined_it_would_hold(played):
    failed = played[0]["not_an_expression"]
    assert failed["failed"] is True and "record" not in failed
    assert "syntax" in failed["msg"].lower(), failed["msg"]


def test_a_condition_that_resolves_to_omit_does_not_hold(played):
    failed = played[0]["omitted"]
    assert failed["failed"] is True and "record" not in failed
    assert "omit" in failed["msg"].lower(), failed["msg"]


def test_checks_that_are_not_a_list_are_refused(played):
    assert played[0]["not_a_list"]["failed"] is True
    assert "checks must be a non-empty list" in played[0]["not_a_list"]["msg"]


def test_the_entry_point_validation_says_what_validate_argument_spec_says(played):
    wrong, right, work = played[0]["wrong"], played[0]["right"], played[1]
    assert wrong["builtin"]["failed"] is True and wrong["check"]["failed"] is True
    assert wrong["check"]["argument_errors"] == wrong["builtin"]["argument_errors"]
    assert wrong["check"]["msg"] == wrong["builtin"]["msg"]
    assert len(wrong["check"]["argument_errors"]) == 2  # probe_count is no int, probe_mode no choice
    assert not right["check"]["failed"] and not right["builtin"]["failed"]
    # dask_check templates it for the spec, then once for the condition and the record; the builtin's task once.
    assert right["check"]["record"] == {"count": "4"}
    assert (work / "counted-spec").read_text().splitlines() == ["held"] * 3


def load(pem: str):
    return x509.load_pem_x509_certificate(pem.encode())


def common_name(cert) -> str:
    return cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value


def test_a_certificate_is_issued_by_the_ca_for_its_names_and_days_with_a_private_key(played):
    results, work, ca = played
    issued = results["issued"]
    assert issued["changed"] is True
    assert (issued["key_path"], issued["cert_path"]) == (f"{work}/hosts/lab0/key.pem", f"{work}/hosts/lab0/cert.pem")
    cert = load(results["first"]["cert"])
    cert.verify_directly_issued_by(ca)
    assert common_name(cert) == "lab0"
    assert cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value == x509.SubjectAlternativeName(
        [x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("lab0")])
    assert cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value == x509.ExtendedKeyUsage(
        [ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH])
    days = (cert.not_valid_after_utc - datetime.datetime.now(datetime.timezone.utc)) / datetime.timedelta(days=1)
    assert 9.9 < days <= 10
    assert issued["not_after"] == cert.not_valid_after_utc.isoformat()
    assert stat.S_IMODE(os.stat(issued["key_path"]).st_mode) == 0o600
    # The filter the `tls` entry point asks before issuing: current with 10 days left, due when renewing at 10.
    assert results["second"]["current"] is True and results["second"]["current_renewing_earlier"] is False


def test_issuing_again_keeps_the_key_unless_a_new_one_is_asked_for_even_in_check_mode(played):
    results, work, _ = played
    assert results["second"]["key"] == results["first"]["key"]
    assert results["second"]["cert"] != results["first"]["cert"]
    renewed = results["renewed"]
    assert renewed["changed"] is True
    assert (work / "hosts" / "lab0" / "key.pem").read_text().strip() != results["first"]["key"].strip()
    cert = load((work / "hosts" / "lab0" / "cert.pem").read_text())
    assert common_name(cert) == "client"
    with pytest.raises(x509.ExtensionNotFound):
        cert.extensions.get_extension_for_class(x509.SubjectAlternativeName)


def test_the_action_makes_a_ca_that_signs_only_certificates(played):
    results, work, _ = played
    made = results["made_ca"]
    assert made["changed"] is True
    assert (made["cert_path"], made["key_path"]) == (f"{work}/own/ca.pem", f"{work}/own/ca-key.pem")
    ca = load((work / "own" / "ca.pem").read_text())
    ca.verify_directly_issued_by(ca)
    assert common_name(ca) == "own CA" and ca.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    assert made["not_after"] == ca.not_valid_after_utc.isoformat()
    assert stat.S_IMODE(os.stat(made["key_path"]).st_mode) == 0o600


def test_a_bad_name_or_a_missing_ca_fails_with_what_is_wrong(played):
    results = played[0]
    assert results["bad_name"]["failed"] and "'URI:https://lab0' must start with IP: or DNS:" in results["bad_name"]["msg"]
    assert results["no_ca"]["failed"] and "cannot read the cluster's CA" in results["no_ca"]["msg"]


def test_files_are_placed_once_and_check_mode_reports_a_change_without_making_it(played):
    results, work, _ = played
    tls = work / "data" / "dask" / "tls"
    assert results["placed"]["changed_paths"] == [str(tls), str(tls / "key.pem"), str(tls / "token")]
    assert (tls / "key.pem").read_text() == (work / "hosts" / "lab0" / "key.pem").read_text()
    assert results["placed_again"]["changed"] is False and results["placed_again"]["changed_paths"] == []
    assert results["placed_in_check_mode"]["changed_paths"] == [str(tls / "token")]
    assert (tls / "token").read_text() == "first"
    assert [stat.S_IMODE(os.stat(p).st_mode) for p in (tls, tls / "key.pem", tls / "token")] == [0o550, 0o440, 0o400]
    assert results["bad_mode"]["failed"] and "must be octal" in results["bad_mode"]["msg"]


def test_a_mode_is_read_as_octal_text_or_as_yamls_number():
    directories = plugin("action", "dask_directories")
    assert directories.octal_mode("0500", "x") == 0o500 and directories.octal_mode(0o500, "x") == 0o500
    with pytest.raises(AnsibleActionFail, match="x: mode '9' must be octal"):
        directories.octal_mode("9", "x")


def test_a_file_has_exactly_one_of_content_and_src_and_src_is_a_small_file(tmp_path):
    content = plugin("action", "dask_directories").ActionModule._content
    (tmp_path / "key.pem").write_text("secret")
    assert content({"name": "key.pem", "content": None, "src": str(tmp_path / "key.pem")}, "/d") == "secret"
    assert content({"name": "token", "content": "t", "src": None}, "/d") == "t"
    for both_or_neither in ({"content": "t", "src": str(tmp_path / "key.pem")}, {"content": None, "src": None}):
        with pytest.raises(AnsibleActionFail, match="needs exactly one of content and src"):
            content({"name": "token", **both_or_neither}, "/d")
    (tmp_path / "big").write_bytes(b"x" * (plugin("plugin_utils", "machine_program").MAX_FILE_BYTES + 1))
    with pytest.raises(AnsibleActionFail, match="is larger than"):
        content({"name": "big", "content": None, "src": str(tmp_path / "big")}, "/d")


def test_progress_is_worded_in_units_people_read_at_a_glance():
    progress = plugin("plugin_utils", "progress")
    assert [progress.human(size) for size in (0, 1023, 1536, 5 * 2**20 + 2**19, 3 * 2**30)] == [
        "0 B", "1023 B", "2 KiB", "5.5 MiB", "3.0 GiB"]
    assert progress.moving("lab0", "copying", "x.tar", 2**20, 4 * 2**20, 1.0) == \
        "lab0: copying x.tar: 1.0 MiB of 4.0 MiB (25 %), 1.0 MiB/s"
    assert progress.moved("lab0", "copied", "x.tar", 4 * 2**20, 4.0) == \
        "lab0: copied x.tar: 4.0 MiB in 4.0 s (1.0 MiB/s), SHA-256 verified"
