"""The action dask_certificate's issuing functions, called directly: the cluster's CA, and certificates that it
signs for TLS servers and clients, with keys kept or renewed (test_actions.py runs the action itself)."""
from collection import plugin
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import load_pem_private_key

dask_certificate = plugin("action", "dask_certificate")


def issue(ca=False, prefix=None, common_name="", subject_alt_name=(), ca_path="", ca_key_path="", days=1,
          new_key=False) -> dict:
    if ca:
        signed = dask_certificate.issue_ca(ca_path, ca_key_path, common_name, days, new_key)
    else:
        signed = dask_certificate.issue_signed(prefix, common_name, list(subject_alt_name), ca_path, ca_key_path,
                                               days, new_key)
    return {"not_after": signed.not_valid_after_utc.isoformat()}


def read(path):
    return x509.load_pem_x509_certificate(path.read_bytes())


def key_of(path):
    return load_pem_private_key(path.read_bytes(), password=None)


def test_the_ca_signs_only_certificates_and_a_machine_certificate_it_signs_serves_and_connects(tmp_path):
    ca_path, ca_key = tmp_path / "ca.pem", tmp_path / "ca-key.pem"
    issue(ca=True, common_name="Dask cluster t CA", ca_path=str(ca_path), ca_key_path=str(ca_key), days=20)
    ca = read(ca_path)
    assert ca.subject == ca.issuer
    assert ca.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    usage = ca.extensions.get_extension_for_class(x509.KeyUsage)
    assert usage.critical and usage.value.key_cert_sign and not usage.value.digital_signature
    assert oct(ca_key.stat().st_mode & 0o777) == "0o600"
    assert (ca.not_valid_after_utc - ca.not_valid_before_utc).days == 20

    answer = issue(prefix=f"{tmp_path}/hosts/lab0/", common_name="lab0", subject_alt_name=["IP:10.0.0.5", "DNS:lab0"],
                   ca_path=str(ca_path), ca_key_path=str(ca_key), days=5)
    cert = read(tmp_path / "hosts" / "lab0" / "cert.pem")
    cert.verify_directly_issued_by(ca)
    sans = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert [str(ip) for ip in sans.get_values_for_type(x509.IPAddress)] == ["10.0.0.5"]
    assert sans.get_values_for_type(x509.DNSName) == ["lab0"]
    purposes = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert {p._name for p in purposes} == {"serverAuth", "clientAuth"}
    assert answer["not_after"] == cert.not_valid_after_utc.isoformat()
    assert isinstance(key_of(tmp_path / "hosts" / "lab0" / "key.pem"), ec.EllipticCurvePrivateKey)


def test_keys_are_kept_when_reissued_and_renewed_on_rotation(tmp_path):
    ca_path, ca_key = tmp_path / "ca.pem", tmp_path / "ca-key.pem"
    ca_args = dict(ca=True, common_name="CA", ca_path=str(ca_path), ca_key_path=str(ca_key), days=20)
    issue(**ca_args)
    first_ca_key = ca_key.read_bytes()
    issue(**ca_args)
    assert ca_key.read_bytes() == first_ca_key
    issue(**ca_args, new_key=True)
    assert ca_key.read_bytes() != first_ca_key

    machine = dict(prefix=f"{tmp_path}/m-", common_name="m", ca_path=str(ca_path), ca_key_path=str(ca_key), days=5)
    issue(**machine)
    first_key = (tmp_path / "m-key.pem").read_bytes()
    issue(**machine)
    assert (tmp_path / "m-key.pem").read_bytes() == first_key
    issue(**machine, new_key=True)
    assert (tmp_path / "m-key.pem").read_bytes() != first_key
    read(tmp_path / "m-cert.pem").verify_directly_issued_by(read(ca_path))

