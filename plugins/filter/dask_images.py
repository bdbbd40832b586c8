"""Filters of adhoc.dask_cluster: which image a machine holds under dask_image, from what the run registered.

The `image` step reads a machine's images only when up.yml's first contact did not already list them (or a
pull or load changed them since). Which answer is the latest is decided here, in one place, from the machine's
variables (`hostvars[host]`): the role's tasks and up.yml's run_once identity check then use the same answer,
without a set_fact task on every machine to record it.
"""
from __future__ import annotations

from collections.abc import Mapping


def dask_images_held(host_vars: Mapping, image: str):
    """The images the machine holds under `image` (the Engine API's image list, as dask_machine_info and the image
    steps return it), newest answer first: the read after a `docker load`; up.yml's first-contact listing, unless a
    pull changed it or `image` is a digest (which that listing does not filter by); the `image` step's own read.
    None when nothing has read them."""
    loaded = host_vars.get("__dask_image_loaded") or {}
    if "images" in loaded:
        return loaded["images"]
    listed = host_vars.get("__dask_machine") or {}
    pulled = host_vars.get("__dask_image_pulled") or {}
    if "images" in listed and "@" not in image and not pulled.get("changed"):
        return listed["images"]
    read = host_vars.get("__dask_image_here") or {}
    return read.get("images")


def dask_image_id(host_vars: Mapping, image: str) -> str:
    """The ID of the image the machine holds under `image`, or '(none)'."""
    images = dask_images_held(host_vars, image) or []
    return images[0]["Id"] if images else "(none)"


class FilterModule:
    def filters(self):
        return {"dask_images_held": dask_images_held, "dask_image_id": dask_image_id}
