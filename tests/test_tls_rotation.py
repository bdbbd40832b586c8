"""Rotating the CA is how a stolen key is revoked: a rotation renews every private key (each machine's, on the
controller and placed on the machine, and the client's), while a plain re-run keeps them. A CA near its end
stops the run before any machine is touched, until it is rotated. The dask role's entry point `tls` alone
(tests/playbooks/tls_only.yml) on this machine, through a local connection."""
from __future__ import annotations

from pathlib import Path

from conftest import BIN, run, write_inventory
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat, load_pem_private_key

CLUSTER = "rotation-test"
HOST = "machine0"


class Cluster:
    """One inventory of one local machine, and where the `tls` entry point keeps its files."""

    def __init__(self, tmp: Path, **settings):
        self.out, self.data = tmp / "out", tmp / "data"
        self.placed = self.data / CLUSTER / "tls"
        local = {"ansible_connection": "local", "ansible_python_interpreter": "{{ ansible_playbook_python }}"}
        self.inventory = write_inventory(tmp / "hosts.yml", {"all": {
            "hosts": {HOST: local},
            "vars": {"dask_cluster_name": CLUSTER, "dask_cluster_output_dir": str(self.out),
                     "dask_cluster_data_root": str(self.data), **settings}}})

    def tls(self, *extra: str):
        result = run(str(BIN / "ansible-playbook"), "tests/playbooks/tls_only.yml", "-i", str(self.inventory),
                     *extra)
        result.output = " ".join((result.stdout + result.stderr).split())
        return result

    def keys(self) -> dict[str, bytes]:
        """Every private key the run made, by where it lives."""
        paths = {"the machine's key on the controller": self.out / "hosts" / HOST / "key.pem",
                 "the machine's key on the machine": self.placed / "key.pem",
                 "the client's key": self.out / "client-key.pem"}
        return {where: path.read_bytes() for where, path in paths.items()}

    def certificates(self) -> dict[str, tuple[Path, Path]]:
        """Every certificate with the key it must belong to."""
        return {"the machine's certificate on the controller": (self.out / "hosts" / HOST / "cert.pem",
                                                 self.out / "hosts" / HOST / "key.pem"),
                "the machine's certificate on the machine": (self.placed / "cert.pem", self.placed / "key.pem"),
                "the client's certificate": (self.out / "client-cert.pem", self.out / "client-key.pem")}


def certificate(path: Path) -> x509.Certificate:
    return x509.load_pem_x509_certificate(path.read_bytes())


def public(key) -> bytes:
    return key.public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo)


def assert_issued_by(cluster: Cluster, ca: x509.Certificate):
    """Each certificate verifies against `ca` and carries the public half of the key beside it."""
    for where, (cert_path, key_path) in cluster.certificates().items():
        cert = certificate(cert_path)
        cert.verify_directly_issued_by(ca)  # raises when another CA signed it
        key = load_pem_private_key(key_path.read_bytes(), password=None)
        assert public(cert.public_key()) == public(key.public_key()), where


def test_a_rotation_renews_every_key_and_a_rerun_keeps_them(tmp_path):
    cluster = Cluster(tmp_path)
    first = cluster.tls()
    assert first.returncode == 0, first.output[-4000:]
    keys, ca = cluster.keys(), certificate(cluster.out / "ca.pem")
    assert_issued_by(cluster, ca)

    again = cluster.tls()
    assert again.returncode == 0, again.output[-4000:]
    assert cluster.keys() == keys

    rotated = cluster.tls("-e", "dask_tls_rotate_ca=true")
    assert rotated.returncode == 0, rotated.output[-4000:]
    new_ca = certificate(cluster.out / "ca.pem")
    assert public(new_ca.public_key()) != public(ca.public_key())
    renewed = cluster.keys()
    for where, key in keys.items():
        assert renewed[where] != key, f"{where} was kept through a rotation"
    assert renewed["the machine's key on the machine"] == renewed["the machine's key on the controller"]
    assert (cluster.placed / "ca.pem").read_bytes() == (cluster.out / "ca.pem").read_bytes()
    assert_issued_by(cluster, new_ca)


def test_a_ca_near_its_end_stops_the_run_before_any_machine_until_it_is_rotated(tmp_path):
    cluster = Cluster(tmp_path, dask_tls_ca_days=10, dask_tls_renew_days=30)
    first = cluster.tls()
    assert first.returncode == 0, first.output[-4000:]
    ca = certificate(cluster.out / "ca.pem")
    # A run that touched the machine would place its files again.
    for path in cluster.placed.iterdir():
        path.unlink()
    cluster.placed.rmdir()

    refused = cluster.tls()
    assert refused.returncode != 0, refused.output[-4000:]
    for words in (CLUSTER, ca.not_valid_after_utc.strftime("%Y-%m-%d"), "-e dask_tls_rotate_ca=true"):
        assert words in refused.output, (words, refused.output[-4000:])
    assert not cluster.placed.exists()
    assert certificate(cluster.out / "ca.pem") == ca

    rotated = cluster.tls("-e", "dask_tls_rotate_ca=true")
    assert rotated.returncode == 0, rotated.output[-4000:]
    new_ca = certificate(cluster.out / "ca.pem")
    assert public(new_ca.public_key()) != public(ca.public_key())
    assert_issued_by(cluster, new_ca)

