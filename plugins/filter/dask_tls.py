"""Filters of adhoc.dask_cluster: is a certificate on the controller still good, and when does the cluster's CA
expire, read without a module."""
from __future__ import annotations

import datetime
import ipaddress
import os

from ansible.errors import AnsibleFilterError

# At the top, so that the callback adhoc.dask_cluster.preload_jinja imports them once, before the forks. Without
# the library the file still loads (ansible-doc lists the filters), and using a filter says what is missing.
try:
    from cryptography import x509
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat, load_pem_private_key
except ImportError:
    x509 = None


def _need_cryptography() -> None:
    if x509 is None:
        raise AnsibleFilterError("adhoc.dask_cluster's certificate filters need the Python library cryptography on "
                                 "the controller (pip install -r requirements.txt)")


def _subject_alt_names(cert) -> list[str]:
    try:
        sans = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return []
    return ([f"IP:{ip}" for ip in sans.get_values_for_type(x509.IPAddress)]
            + [f"DNS:{name}" for name in sans.get_values_for_type(x509.DNSName)])


def dask_certificate_current(prefix: str, sans: list, renew_days: int, rotate_ca: bool, ca_path: str) -> bool:
    """True when PREFIXcert.pem and PREFIXkey.pem exist, belong together, were signed by the CA at ca_path,
    name exactly `sans`, remain valid for more than renew_days, and no CA rotation is asked for. The `tls`
    entry point issues (through the action dask_certificate) only when this is False: re-runs run no module.
    """
    _need_cryptography()
    if rotate_ca:
        return False
    paths = [f"{prefix}cert.pem", f"{prefix}key.pem", ca_path]
    if not all(os.path.isfile(path) for path in paths):
        return False
    cert, key, ca = (_read(path, load) for path, load in (
        (paths[0], x509.load_pem_x509_certificate),
        # A key with a passphrase raises TypeError: the cluster's keys have none.
        (paths[1], lambda data: load_pem_private_key(data, password=None)),
        (ca_path, x509.load_pem_x509_certificate)))
    try:
        cert.verify_directly_issued_by(ca)
    except (ValueError, TypeError, InvalidSignature):  # another issuer, key type or signature: not this CA's
        return False
    same_key = (key.public_key().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo)
                == cert.public_key().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo))
    remaining = cert.not_valid_after_utc - datetime.datetime.now(datetime.timezone.utc)
    return same_key and remaining > datetime.timedelta(days=int(renew_days)) and (
        sorted(_subject_alt_names(cert)) == sorted(sans))


def _read(path: str, load):
    """A PEM file loaded, or an error that names it."""
    try:
        with open(path, "rb") as fh:
            return load(fh.read())
    except (OSError, ValueError, TypeError) as exc:
        raise AnsibleFilterError(f"cannot read {path} (a certificate, or a key without a passphrase): {exc}") from exc


def dask_certificate_expiry(path: str) -> dict:
    """When the certificate at path expires: {'not_after': 'YYYY-MM-DD HH:MM:SS UTC', 'days_left': days from now
    (a fraction; negative once expired)}. The `tls` entry point refuses a CA near its end with it, before any
    machine is touched.
    """
    _need_cryptography()
    cert = _read(path, x509.load_pem_x509_certificate)
    remaining = cert.not_valid_after_utc - datetime.datetime.now(datetime.timezone.utc)
    return {"not_after": cert.not_valid_after_utc.strftime("%Y-%m-%d %H:%M:%S UTC"),
            "days_left": remaining / datetime.timedelta(days=1)}


def dask_subject_alt_names(names: list) -> list[str]:
    """The subject alternative names of a certificate for these host names and addresses, in their order,
    without empty or repeated ones: IP:address for an IP address, DNS:name for anything else."""
    sans = []
    for name in (str(name) for name in names if name):
        try:
            entry = f"IP:{ipaddress.ip_address(name)}"
        except ValueError:
            entry = f"DNS:{name}"
        if entry not in sans:
            sans.append(entry)
    return sans


class FilterModule:
    def filters(self):
        return {"dask_certificate_current": dask_certificate_current,
                "dask_certificate_expiry": dask_certificate_expiry,
                "dask_subject_alt_names": dask_subject_alt_names}
