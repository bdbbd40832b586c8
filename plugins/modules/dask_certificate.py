#!/usr/bin/python
"""Documentation of the action plugin adhoc.dask_cluster.dask_certificate (it runs on the controller)."""
from __future__ import annotations

DOCUMENTATION = r"""
module: dask_certificate
short_description: Issue the cluster's CA, or a key and a certificate signed by it, on the controller
description:
  - With I(ca), writes the cluster's CA, an ECC secp384r1 key at I(ca_key_path) (kept when one already exists
    unless I(new_key)) and a self-signed certificate at I(ca_path) for I(common_name), valid for I(days), that
    may sign certificates only (basic constraints CA:TRUE and key usage keyCertSign, cRLSign, both critical).
  - Otherwise writes I(prefix)C(key.pem) (an ECC secp384r1 key, kept when one already exists unless I(new_key)) and
    I(prefix)C(cert.pem), a certificate for I(common_name) and I(subject_alt_name) signed by the CA at
    I(ca_path) with the key at I(ca_key_path), valid for I(days), for TLS servers and clients (key usage
    digitalSignature, keyAgreement; extended key usage serverAuth, clientAuth).
  - Runs in the controller's own process with the C(cryptography) library (no module run), and always issues;
    the C(tls) entry point includes it only when the filter C(dask_certificate_current) says a certificate is
    due. The controller's files are written in check mode too, as the CA's are.
version_added: 0.6.0
author: adhoc.dask_cluster contributors (!UNKNOWN)
options:
  prefix:
    description:
      - Path prefix of the key and certificate files; their directory is created (mode 0700) if missing.
      - Required unless I(ca).
    type: str
  ca:
    description: Issue the CA itself (self-signed, at I(ca_path) with its key at I(ca_key_path)) instead.
    type: bool
    default: false
  common_name:
    description: The certificate's subject common name.
    type: str
    required: true
  subject_alt_name:
    description: Subject alternative names, each C(IP:address) or C(DNS:name).
    type: list
    elements: str
    default: []
  ca_path:
    description: The CA's certificate (PEM).
    type: path
    required: true
  ca_key_path:
    description: The CA's private key (PEM, unencrypted).
    type: path
    required: true
  days:
    description: Days the certificate is valid from now.
    type: int
    required: true
  new_key:
    description:
      - Generate a new key even when one exists at I(prefix)C(key.pem), instead of keeping it.
      - The C(tls) entry point sets it when the CA is rotated (C(dask_tls_rotate_ca)), so that a rotation renews
        every private key and a stolen one is worthless afterwards.
    type: bool
    default: false
attributes:
  check_mode:
    support: full
    description: Issues in check mode too, as the CA is made in check mode (both are the controller's own files).
requirements:
  - the Python library cryptography on the controller
"""

EXAMPLES = r"""
- name: Make the cluster's CA
  adhoc.dask_cluster.dask_certificate:
    ca: true
    common_name: Dask cluster dask CA
    ca_path: .dask/dask/ca.pem
    ca_key_path: .dask/dask/ca-key.pem
    days: 3650

- name: Issue this machine's certificate
  adhoc.dask_cluster.dask_certificate:
    prefix: .dask/dask/hosts/lab0/
    common_name: lab0
    subject_alt_name: ["IP:127.0.0.1", "DNS:localhost", "DNS:lab0"]
    ca_path: .dask/dask/ca.pem
    ca_key_path: .dask/dask/ca-key.pem
    days: 365

- name: Issue a client certificate with a new key, as a CA rotation does
  adhoc.dask_cluster.dask_certificate:
    prefix: .dask/dask/client-
    common_name: Dask cluster dask client
    ca_path: .dask/dask/ca.pem
    ca_key_path: .dask/dask/ca-key.pem
    days: 365
    new_key: true
"""

RETURN = r"""
key_path:
  description: The key's path.
  returned: success
  type: str
cert_path:
  description: The certificate's path.
  returned: success
  type: str
not_after:
  description: When the certificate expires (ISO 8601, UTC).
  returned: success
  type: str
"""
