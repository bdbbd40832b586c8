#!/usr/bin/python
"""Pull an image by tag or digest, recording its download progress in a file while it runs."""
from __future__ import annotations

DOCUMENTATION = r"""
module: dask_image_pull
short_description: Pull a Docker image and record the pull's progress for the controller to show
description:
  - Pulls I(name) (a tag or a digest reference) through the Docker API, as community.docker.docker_image_pull
    does, and keeps a small JSON summary of the download (layers, bytes done, bytes known) in
    I(progress_file) while it runs.
  - Its action plugin runs it in the background and prints that summary every few seconds, so that a
    multi-GB pull is not minutes of silence. Use the action (the task name is the same).
version_added: 0.2.0
author: adhoc.dask_cluster contributors
extends_documentation_fragment:
  - community.docker._docker.api_documentation
options:
  name:
    description: Image reference to pull, C(repository:tag) or C(repository@sha256:...).
    type: str
    required: true
  pull:
    description: C(not_present) pulls only when the engine lacks I(name); C(always) asks the registry each time.
    type: str
    choices: [always, not_present]
    default: not_present
  tag_as:
    description:
      - Tag the image as this name once it is present (for a digest reference, so that containers can name it
        by the cluster's dask_image). Reports a change when the tag moves.
    type: str
  resolve:
    description:
      - Pull nothing; return in C(reference) the digest reference the cluster should run. That is the digest
        of the image the engine holds under I(name) when I(pull=not_present) and it holds one, else the
        registry's current digest for I(name). C(reference) is empty when the image held has no digest from
        a registry (built or loaded locally).
    type: bool
    default: false
  progress_file:
    description: Where to keep the progress summary on the target (written by the module, read by the action).
    type: path
  progress_interval:
    description: Seconds between progress lines (read by the action plugin).
    type: float
    default: 3
requirements:
  - Docker API >= 1.25
"""

EXAMPLES = r"""
- name: Pull the cluster's image, showing progress
  adhoc.dask_cluster.dask_image_pull:
    name: darribas/gds_dev:10.0
"""

RETURN = r"""
reference:
  description: With I(resolve), C(repository@sha256:...) to pull everywhere, or empty (see I(resolve)).
  returned: when resolve
  type: str
image:
  description: The pulled image's inspection (C(Id), C(RepoDigests), C(RepoTags), ...); empty when absent.
  returned: always
  type: dict
"""

import json  # noqa: E402
import os  # noqa: E402
import time  # noqa: E402
import traceback  # noqa: E402

from ansible_collections.community.docker.plugins.module_utils._api import auth  # noqa: E402
from ansible_collections.community.docker.plugins.module_utils._api.errors import DockerException  # noqa: E402
from ansible_collections.community.docker.plugins.module_utils._api.utils.utils import (  # noqa: E402
    parse_repository_tag,
)
from ansible_collections.community.docker.plugins.module_utils._common_api import AnsibleDockerClient  # noqa: E402


class ProgressClient(AnsibleDockerClient):
    """community.docker's client, whose pull hands every line of the engine's stream to log(): we listen."""

    progress_file: str | None = None
    layers: dict
    _written = 0.0

    def log(self, msg, pretty_print=False):
        if not isinstance(msg, dict) or "id" not in msg or not self.progress_file:
            return
        if msg.get("status", "").startswith("Pulling from"):  # the tag's line, not a layer
            return
        layer = self.layers.setdefault(msg["id"], {"current": 0, "total": 0, "done": False})
        detail = msg.get("progressDetail") or {}
        status = msg.get("status", "")
        if status == "Downloading" and detail.get("total"):
            layer.update(current=detail.get("current", 0), total=detail["total"])
        elif status in ("Download complete", "Pull complete", "Already exists", "Verifying Checksum"):
            layer.update(current=layer["total"], done=True)
        self.write_progress(force=False)

    def write_progress(self, force: bool, **extra) -> None:
        now = time.monotonic()
        if not force and now - self._written < 0.5:
            return
        self._written = now
        summary = {
            "layers": len(self.layers),
            "layers_done": sum(layer["done"] for layer in self.layers.values()),
            "bytes_done": sum(layer["current"] for layer in self.layers.values()),
            "bytes_known": sum(layer["total"] for layer in self.layers.values()),
            **extra,
        }
        partial = f"{self.progress_file}.partial"
        with open(partial, "w") as fh:
            json.dump(summary, fh)
        os.replace(partial, self.progress_file)  # the reader never sees half a file


def repo_digest(image: dict, repository: str) -> str:
    """The image's digest reference in repository (as RepoDigests spells it), or '' if it has none there."""
    for entry in image.get("RepoDigests") or []:
        if entry.rsplit("@", 1)[0] == repository:
            return entry
    return ""


def registry_digest(client: ProgressClient, reference: str) -> str:
    """What the registry serves for reference now, as repository@sha256:..., asked through the engine."""
    repository, _ = parse_repository_tag(reference)
    registry, _ = auth.resolve_repository_name(repository)
    header = auth.get_config_header(client, registry)
    descriptor = client.get_json("/distribution/{0}/json", reference,
                                 headers={"X-Registry-Auth": header} if header else {})
    return f"{repository}@{descriptor['Descriptor']['digest']}"


def move_tag(client: ProgressClient, image: dict, name: str) -> bool:
    """Point name at image; True when the tag moved."""
    current = client.find_image_by_id(name, accept_missing_image=True)
    if current and current["Id"] == image["Id"]:
        return False
    if not client.check_mode:
        repository, tag_ = parse_repository_tag(name)
        response = client._post(client._url("/images/{0}/tag", image["Id"]),
                                params={"repo": repository, "tag": tag_ or "latest", "force": 1})
        client._raise_for_status(response)
    return True


def main() -> None:
    client = ProgressClient(
        argument_spec={
            "name": {"type": "str", "required": True},
            "pull": {"type": "str", "choices": ["always", "not_present"], "default": "not_present"},
            "tag_as": {"type": "str"},
            "resolve": {"type": "bool", "default": False},
            "progress_file": {"type": "path"},
            "progress_interval": {"type": "float", "default": 3},
        },
        supports_check_mode=True,
    )
    params = client.module.params
    client.progress_file, client.layers = params["progress_file"], {}
    reference = params["name"]
    repository, tag = parse_repository_tag(reference)
    try:
        before = client.find_image_by_id(reference, accept_missing_image=True)
        if params["resolve"]:
            if "@" in reference:
                found = reference
            elif before and params["pull"] == "not_present":
                found = repo_digest(before, repository)
            else:
                found = registry_digest(client, reference)
            client.module.exit_json(changed=False, reference=found, image=before or {})
        changed = False
        after = before
        if not before or params["pull"] == "always":
            if client.check_mode:
                client.module.exit_json(changed=True, image=before or {})
            client.pull_image(repository, tag=tag or "latest")
            after = client.find_image_by_id(reference)
            changed = (before or {}).get("Id") != after.get("Id")
        if params["tag_as"]:
            changed = move_tag(client, after, params["tag_as"]) or changed
        if client.progress_file:
            client.write_progress(force=True, finished=True)
        client.module.exit_json(changed=changed, image=after)
    except DockerException as exc:
        client.fail(f"Pulling {reference} failed: {exc}", exception=traceback.format_exc())


if __name__ == "__main__":
    main()
