#!/usr/bin/env python3
"""A read-only container registry for the test lab, serving one `docker save` archive.

No registry is reachable from this machine, yet registry mode (pulls, digests, progress) must be tested
against a real Docker engine pulling over HTTP. This serves the Registry HTTP API v2 endpoints a pull uses
(`/v2/`, manifests by tag or digest, blobs) straight out of the archive's members, without unpacking it: the
image config is the config blob, each layer tar an uncompressed OCI layer. The manifest digest is therefore
stable for a given archive, as a real registry's is.

    python tools/lab_registry.py ARCHIVE --listen 127.0.0.1:5000 [--rate MiB_PER_S]

Docker pulls over plain HTTP from 127.0.0.0/8 by default and from other addresses given to dockerd as
--insecure-registry (the lab hosts' engines allow 172.28.0.0/16). --rate slows blob downloads so that a test
can watch a pull's progress on a small image. Prints "ready <name>:<tag> <manifest digest>" once it listens.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import re
import tarfile
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

MANIFEST_TYPE = "application/vnd.oci.image.manifest.v1+json"
CONFIG_TYPE = "application/vnd.oci.image.config.v1+json"
LAYER_TYPE = "application/vnd.oci.image.layer.v1.tar"
CHUNK = 1 << 20


@dataclass(frozen=True)
class Blob:
    offset: int
    size: int


def sha256_of(archive, offset: int, size: int) -> str:
    h = hashlib.sha256()
    archive.seek(offset)
    while size:
        data = archive.read(min(CHUNK, size))
        h.update(data)
        size -= len(data)
    return "sha256:" + h.hexdigest()


def index_archive(path: Path) -> tuple[dict[str, dict[str, bytes | Blob]], dict[str, Blob]]:
    """Per repository, the manifest by tag and by digest; and every blob by digest, as offsets in the tar."""
    manifests: dict[str, dict[str, bytes | Blob]] = {}
    blobs: dict[str, Blob] = {}
    with tarfile.open(path) as tar, open(path, "rb") as raw:
        members = {m.name: m for m in tar.getmembers()}
        for image in json.loads(tar.extractfile("manifest.json").read()):
            descriptors = []
            for name, media_type in [(image["Config"], CONFIG_TYPE)] + [(n, LAYER_TYPE) for n in image["Layers"]]:
                member = members[name]
                digest = sha256_of(raw, member.offset_data, member.size)
                blobs[digest] = Blob(member.offset_data, member.size)
                descriptors.append({"mediaType": media_type, "digest": digest, "size": member.size})
            manifest = json.dumps({"schemaVersion": 2, "mediaType": MANIFEST_TYPE, "config": descriptors[0],
                                   "layers": descriptors[1:]}, separators=(",", ":")).encode()
            digest = "sha256:" + hashlib.sha256(manifest).hexdigest()
            for reference in image.get("RepoTags") or []:
                repository, tag = reference.rsplit(":", 1)
                repository = repository.split("/", 1)[1] if "." in repository.split("/")[0] else repository
                manifests.setdefault(repository, {}).update({tag: manifest, digest: manifest})
    return manifests, blobs


def handler_for(archive: Path, manifests, blobs, rate: float | None):
    class Registry(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args) -> None:  # quiet: tests read only what they ask for
            pass

        def do_HEAD(self) -> None:
            self.serve(body=False)

        def do_GET(self) -> None:
            self.serve(body=True)

        def serve(self, body: bool) -> None:
            if self.path.rstrip("/") == "/v2":
                return self.reply(200, b"{}", "application/json", body)
            m = re.fullmatch(r"/v2/(.+)/(manifests|blobs)/([^/]+)", self.path)
            if not m:
                return self.reply(404, b'{"errors":[{"code":"NAME_UNKNOWN"}]}', "application/json", body)
            repository, kind, reference = m.groups()
            if kind == "manifests":
                manifest = manifests.get(repository, {}).get(reference)
                if manifest is None:
                    return self.reply(404, b'{"errors":[{"code":"MANIFEST_UNKNOWN"}]}', "application/json", body)
                digest = "sha256:" + hashlib.sha256(manifest).hexdigest()
                return self.reply(200, manifest, MANIFEST_TYPE, body, digest)
            blob = blobs.get(reference)
            if blob is None:
                return self.reply(404, b'{"errors":[{"code":"BLOB_UNKNOWN"}]}', "application/json", body)
            self.send_response(200)
            self.send_header("Content-Type", "application/octet-stream")
            self.send_header("Content-Length", str(blob.size))
            self.send_header("Docker-Content-Digest", reference)
            self.end_headers()
            if body:
                self.stream(blob)

        def stream(self, blob: Blob) -> None:
            started, sent = time.monotonic(), 0
            with open(archive, "rb") as fh:
                fh.seek(blob.offset)
                while sent < blob.size:
                    data = fh.read(min(CHUNK, blob.size - sent))
                    self.wfile.write(data)
                    sent += len(data)
                    if rate:  # hold the average at rate MiB/s
                        ahead = sent / (rate * CHUNK) - (time.monotonic() - started)
                        if ahead > 0:
                            time.sleep(ahead)

        def reply(self, status: int, payload: bytes, content_type: str, body: bool, digest: str = "") -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(payload)))
            self.send_header("Docker-Distribution-API-Version", "registry/2.0")
            if digest:
                self.send_header("Docker-Content-Digest", digest)
            self.end_headers()
            if body:
                self.wfile.write(payload)

    return Registry


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("archive", type=Path)
    parser.add_argument("--listen", default="127.0.0.1:5000", help="HOST:PORT")
    parser.add_argument("--rate", type=float, help="MiB/s per blob download (default: unlimited)")
    args = parser.parse_args()
    manifests, blobs = index_archive(args.archive)
    host, port = args.listen.rsplit(":", 1)
    server = ThreadingHTTPServer((host, int(port)), handler_for(args.archive, manifests, blobs, args.rate))
    for repository, references in manifests.items():
        tags = [r for r in references if not r.startswith("sha256:")]
        digest = next(r for r in references if r.startswith("sha256:"))
        for tag in tags:
            print(f"ready {repository}:{tag} {digest}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
