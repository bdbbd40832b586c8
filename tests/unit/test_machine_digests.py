"""The machine program's digests, by which a re-run finds a machine's certificates already in place: only a small
regular file reached without a link has one."""
import hashlib
import importlib.util
import os
from pathlib import Path

SOURCE = Path(__file__).resolve().parents[2] / "plugins" / "plugin_utils" / "machine_program.py"
spec = importlib.util.spec_from_file_location("machine_program", SOURCE)
program = importlib.util.module_from_spec(spec)
spec.loader.exec_module(program)


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
