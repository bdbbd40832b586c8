"""Action plugin adhoc.dask_cluster.dask_certificate: the cluster's CA, or a key and a certificate signed by it,
on the controller, in the controller's own process.

community.crypto's openssl_privatekey, openssl_csr and x509_certificate do this as three module runs, each a
Python started and community.crypto's code compiled again. The `cryptography` library they use does it here
without any of that. Callers decide whether a certificate is due (the filter dask_certificate_current); this
action issues one whenever it runs. It keeps an existing key unless told `new_key`: a CA rotation renews every
key, so that it revokes a stolen one.
"""
from __future__ import annotations

import datetime
import ipaddress
import os
import secrets

from ansible.errors import AnsibleActionFail
from ansible.plugins.action import ActionBase

# Without the library the plugin still loads (ansible-doc documents it), and a task says what is missing.
try:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.hazmat.primitives.serialization import (Encoding, NoEncryption, PrivateFormat,
                                                              load_pem_private_key)
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
except ImportError:
    x509 = None

# The machines' program writes its files the same way; it is standard library only, so it imports here too.
from ansible_collections.adhoc.dask_cluster.plugins.plugin_utils.machine_program import write_atomically

ARGUMENT_SPEC = {
    "prefix": {"type": "str"},
    "ca": {"type": "bool", "default": False},
    "common_name": {"type": "str", "required": True},
    "subject_alt_name": {"type": "list", "elements": "str", "default": []},
    "ca_path": {"type": "path", "required": True},
    "ca_key_path": {"type": "path", "required": True},
    "days": {"type": "int", "required": True},
    "new_key": {"type": "bool", "default": False},
}


def general_name(entry: str) -> x509.GeneralName:
    kind, colon, value = entry.partition(":")
    if colon and kind == "IP":
        return x509.IPAddress(ipaddress.ip_address(value))
    if colon and kind == "DNS":
        return x509.DNSName(value)
    raise AnsibleActionFail(f"subject_alt_name entry {entry!r} must start with IP: or DNS:")


def key_at(path: str, new: bool):
    """The private key at path (kept unless a new one is asked for, or none parses there), else a new one written
    there, readable by the controller's user only."""
    key = None if new else existing_key(path)
    if key is None:
        key = ec.generate_private_key(ec.SECP384R1())
        os.makedirs(os.path.dirname(path) or ".", mode=0o700, exist_ok=True)
        write_atomically(path, key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()),
                         os.getuid(), os.getgid(), 0o600)
    return key


def certificate(subject: str, key, issuer: x509.Name, issuer_key, days: int) -> x509.CertificateBuilder:
    """What every certificate of the cluster carries: subject, validity and key identifiers."""
    now = datetime.datetime.now(datetime.timezone.utc)
    return (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
            .issuer_name(issuer)
            .public_key(key.public_key())
            .serial_number(int.from_bytes(secrets.token_bytes(16), "big") >> 1)
            .not_valid_before(now - datetime.timedelta(minutes=5))  # clocks a little behind still accept it
            .not_valid_after(now + datetime.timedelta(days=days))
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()),
                           critical=False))


def existing_key(path: str):
    """The private key already at path, or None when there is none or it does not parse."""
    try:
        with open(path, "rb") as handle:
            return load_pem_private_key(handle.read(), password=None)
    except (FileNotFoundError, ValueError):
        return None
    except (OSError, TypeError) as exc:  # unreadable, or protected by a password
        raise AnsibleActionFail(f"cannot use the private key {path}: {exc}") from exc


def issue_ca(ca_path: str, ca_key_path: str, common_name: str, days: int, new_key: bool) -> x509.Certificate:
    """The cluster's CA: self-signed, for signing the cluster's certificates only. Its directory, which holds
    every key of the cluster on the controller, is for the controller's user alone."""
    key = key_at(ca_key_path, new_key)
    os.chmod(os.path.dirname(ca_key_path) or ".", 0o700)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    builder = (certificate(common_name, key, subject, key, days)
               .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
               .add_extension(x509.KeyUsage(digital_signature=False, key_agreement=False, content_commitment=False,
                                            key_encipherment=False, data_encipherment=False, key_cert_sign=True,
                                            crl_sign=True, encipher_only=False, decipher_only=False), critical=True))
    return written(ca_path, builder.sign(key, hashes.SHA256()))


def issue_signed(prefix: str, common_name: str, sans: list, ca_path: str, ca_key_path: str, days: int,
                 new_key: bool) -> x509.Certificate:
    """PREFIXkey.pem and PREFIXcert.pem, signed by the CA, for TLS servers and clients."""
    try:
        with open(ca_path, "rb") as handle:
            ca = x509.load_pem_x509_certificate(handle.read())
        with open(ca_key_path, "rb") as handle:
            ca_key = load_pem_private_key(handle.read(), password=None)
    except (OSError, ValueError) as exc:
        raise AnsibleActionFail(f"cannot read the cluster's CA ({ca_path}): {exc}") from exc
    key = key_at(f"{prefix}key.pem", new_key)
    builder = (certificate(common_name, key, ca.subject, ca_key, days)
               .add_extension(x509.KeyUsage(digital_signature=True, key_agreement=True, content_commitment=False,
                                            key_encipherment=False, data_encipherment=False, key_cert_sign=False,
                                            crl_sign=False, encipher_only=False, decipher_only=False),
                              critical=False)
               .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH,
                                                     ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False))
    if sans:
        builder = builder.add_extension(x509.SubjectAlternativeName([general_name(entry) for entry in sans]),
                                        critical=False)
    return written(f"{prefix}cert.pem", builder.sign(ca_key, hashes.SHA256()))


def written(path: str, signed: x509.Certificate) -> x509.Certificate:
    write_atomically(path, signed.public_bytes(Encoding.PEM), os.getuid(), os.getgid(), 0o644)
    return signed


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _requires_connection = False
    _supports_check_mode = True  # the controller's own state: issued in check mode too, as the CA is

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        if x509 is None:
            raise AnsibleActionFail("adhoc.dask_cluster.dask_certificate needs the Python library cryptography on "
                                    "the controller (pip install -r requirements.txt)")
        args = self.validate_argument_spec(argument_spec=ARGUMENT_SPEC)[1]
        if args["ca"]:
            key_path, cert_path = args["ca_key_path"], args["ca_path"]
            signed = issue_ca(cert_path, key_path, args["common_name"], args["days"], args["new_key"])
        elif args["prefix"]:
            key_path, cert_path = f"{args['prefix']}key.pem", f"{args['prefix']}cert.pem"
            signed = issue_signed(args["prefix"], args["common_name"], args["subject_alt_name"], args["ca_path"],
                                  args["ca_key_path"], args["days"], args["new_key"])
        else:
            raise AnsibleActionFail("prefix is required unless ca is true")
        return {**result, "changed": True, "key_path": key_path, "cert_path": cert_path,
                "not_after": signed.not_valid_after_utc.isoformat()}
