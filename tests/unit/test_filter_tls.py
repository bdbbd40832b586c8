"""dask_certificate_current and dask_certificate_expiry: whether the `tls` entry point issues a certificate again,
and whether it refuses a CA near its end. Certificates here are made with the cryptography library directly."""
import datetime
import ipaddress
import subprocess
import sys
from pathlib import Path

import pytest
from ansible.errors import AnsibleFilterError
from collection import plugin
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import BestAvailableEncryption, Encoding, NoEncryption, PrivateFormat
from cryptography.x509.oid import NameOID

tls = plugin("filter", "dask_tls")
NOW = datetime.datetime.now(datetime.timezone.utc)
SANS = ["IP:127.0.0.1", "DNS:lab0"]


def pem_key(key) -> bytes:
    return key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())


def certificate(subject_key, issuer_key, issuer: str, days: float, sans=(), subject="lab0"):
    builder = (x509.CertificateBuilder()
               .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
               .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer)]))
               .public_key(subject_key.public_key())
               .serial_number(x509.random_serial_number())
               .not_valid_before(NOW + datetime.timedelta(days=min(days, 0) - 1))
               .not_valid_after(NOW + datetime.timedelta(days=days)))
    names = [x509.IPAddress(ipaddress.ip_address(value)) if kind == "IP" else x509.DNSName(value)
             for kind, value in (entry.split(":", 1) for entry in sans)]
    if names:
        builder = builder.add_extension(x509.SubjectAlternativeName(names), critical=False)
    return builder.sign(issuer_key, hashes.SHA256())


@pytest.fixture
def ca(tmp_path):
    key = ec.generate_private_key(ec.SECP256R1())
    (tmp_path / "ca.pem").write_bytes(certificate(key, key, "ca", 3650, subject="ca").public_bytes(Encoding.PEM))
    return key, str(tmp_path / "ca.pem")


def issue(tmp_path, ca_key, days=365, sans=SANS, key=None):
    key = key or ec.generate_private_key(ec.SECP256R1())
    (tmp_path / "lab0-key.pem").write_bytes(pem_key(key))
    (tmp_path / "lab0-cert.pem").write_bytes(certificate(key, ca_key, "ca", days, sans).public_bytes(Encoding.PEM))
    return f"{tmp_path}/lab0-"


def test_a_certificate_of_this_ca_with_its_key_and_names_and_time_left_is_current(tmp_path, ca):
    prefix = issue(tmp_path, ca[0])
    assert tls.dask_certificate_current(prefix, list(reversed(SANS)), 30, False, ca[1])
    assert not tls.dask_certificate_current(prefix, SANS, 30, True, ca[1])  # a CA rotation renews everything


def test_a_certificate_is_due_when_its_time_its_names_its_key_or_its_ca_differ(tmp_path, ca):
    prefix = issue(tmp_path, ca[0], days=30.5)
    assert tls.dask_certificate_current(prefix, SANS, 30, False, ca[1])
    assert not tls.dask_certificate_current(prefix, SANS, 31, False, ca[1])
    assert not tls.dask_certificate_current(prefix, SANS + ["DNS:lab0.example"], 30, False, ca[1])
    assert not tls.dask_certificate_current(prefix, SANS[:1], 30, False, ca[1])
    (tmp_path / "lab0-key.pem").write_bytes(pem_key(ec.generate_private_key(ec.SECP256R1())))
    assert not tls.dask_certificate_current(prefix, SANS, 30, False, ca[1])
    stranger = ec.generate_private_key(ec.SECP256R1())
    prefix = issue(tmp_path, stranger)  # the same issuer name, another CA's key
    assert not tls.dask_certificate_current(prefix, SANS, 30, False, ca[1])


def test_a_missing_file_means_due_and_an_unreadable_one_is_an_error(tmp_path, ca):
    prefix = issue(tmp_path, ca[0])
    assert not tls.dask_certificate_current(prefix, SANS, 30, False, str(tmp_path / "no-ca.pem"))
    (tmp_path / "lab0-key.pem").unlink()
    assert not tls.dask_certificate_current(prefix, SANS, 30, False, ca[1])
    prefix = issue(tmp_path, ca[0])
    (tmp_path / "lab0-cert.pem").write_text("not a certificate")
    with pytest.raises(AnsibleFilterError, match="lab0-cert.pem"):
        tls.dask_certificate_current(prefix, SANS, 30, False, ca[1])
    # A key with a passphrase (the collection's keys have none) is named as unreadable too, with the CA.
    prefix = issue(tmp_path, ca[0])
    (tmp_path / "lab0-key.pem").write_bytes(ec.generate_private_key(ec.SECP256R1()).private_bytes(
        Encoding.PEM, PrivateFormat.PKCS8, BestAvailableEncryption(b"secret")))
    with pytest.raises(AnsibleFilterError, match="lab0-key.pem .*without a passphrase"):
        tls.dask_certificate_current(prefix, SANS, 30, False, ca[1])


def test_expiry_gives_the_end_and_the_days_left_negative_once_past(tmp_path, ca):
    for days in (400, -2):
        issue(tmp_path, ca[0], days=days)
        cert = x509.load_pem_x509_certificate((tmp_path / "lab0-cert.pem").read_bytes())
        before = datetime.datetime.now(datetime.timezone.utc)
        expiry = tls.dask_certificate_expiry(str(tmp_path / "lab0-cert.pem"))
        after = datetime.datetime.now(datetime.timezone.utc)
        assert expiry["not_after"] == cert.not_valid_after_utc.strftime("%Y-%m-%d %H:%M:%S UTC")
        # The days left from the certificate's own end, as read between the two instants around the call.
        end, day = cert.not_valid_after_utc, datetime.timedelta(days=1)
        assert (end - after) / day <= expiry["days_left"] <= (end - before) / day
        assert expiry["days_left"] == pytest.approx(days, abs=1)
    with pytest.raises(AnsibleFilterError, match="missing.pem"):
        tls.dask_certificate_expiry(str(tmp_path / "missing.pem"))


def test_each_filter_is_offered_under_its_own_name():
    offered = tls.FilterModule().filters()
    assert sorted(offered) == ["dask_certificate_current", "dask_certificate_expiry", "dask_subject_alt_names"]
    assert all(getattr(tls, name) is function for name, function in offered.items())


def test_without_cryptography_the_filters_load_and_say_what_is_missing():
    """A controller without the library still loads the collection's filters (ansible-doc lists them)."""
    program = ("import sys; sys.modules['cryptography'] = None\n"
               "from collection import plugin\n"
               "tls = plugin('filter', 'dask_tls')\n"
               "from ansible.errors import AnsibleFilterError\n"
               "try:\n"
               "    tls.dask_certificate_expiry('ca.pem')\n"
               "except AnsibleFilterError as exc:\n"
               "    print('refused:', exc)\n")
    ran = subprocess.run([sys.executable, "-c", program], cwd=Path(__file__).parent, capture_output=True, text=True,
                         check=False, timeout=60)
    assert ran.stdout.startswith("refused:") and "need the Python library cryptography" in ran.stdout, \
        ran.stdout + ran.stderr


def test_certificate_names_are_ip_or_dns_once_each_in_order():
    names = ["127.0.0.1", "localhost", "lab0", "10.0.0.5", "", "lab0", "fd00::1", "999.1.1.1"]
    assert tls.dask_subject_alt_names(names) == ["IP:127.0.0.1", "DNS:localhost", "DNS:lab0", "IP:10.0.0.5",
                                                 "IP:fd00::1", "DNS:999.1.1.1"]
