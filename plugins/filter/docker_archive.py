"""Filters of adhoc.dask_cluster: what a `docker save` archive holds, read on the controller."""
from __future__ import annotations

import json
import posixpath
import tarfile

from ansible.errors import AnsibleFilterError


def docker_archive_manifest(path: str) -> dict:
    """{'id': 'sha256:...', 'tags': [...]} of the one image in a `docker save` archive.

    The image ID is the digest of its config blob, named in manifest.json as '<hex>.json' (older engines) or
    'blobs/sha256/<hex>' (OCI layout, Docker 25 and newer).
    """
    try:
        with tarfile.open(path) as tar:
            manifest = json.load(tar.extractfile("manifest.json"))
    except (OSError, KeyError, tarfile.TarError, ValueError) as exc:
        raise AnsibleFilterError(f"{path} is not a `docker save` archive: {exc}") from exc
    if len(manifest) != 1:
        raise AnsibleFilterError(f"{path} holds {len(manifest)} images; save exactly one (the cluster's image)")
    config = posixpath.basename(manifest[0]["Config"]).removesuffix(".json")
    return {"id": f"sha256:{config}", "tags": manifest[0].get("RepoTags") or []}


class FilterModule:
    def filters(self):
        return {"docker_archive_manifest": docker_archive_manifest}
