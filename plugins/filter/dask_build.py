"""Filter of adhoc.dask_cluster: the recipe of an image built for dask_image_source build (roles/dask/tasks/build.yml).

From what the controller read (the base image, its interpreter, and optionally the interpreter whose Dask stack
the cluster must match), one value says everything the build needs: the requirements, the wheel platforms of the
base, the Dockerfile and the image name, tagged by a hash of that recipe so that an unchanged recipe names an
image the engine already holds.
"""
from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence

WHEELS = "/tmp/dask-cluster-wheels"  # noqa: S108 - inside the image being built, removed by the build


def _probe(stdout: str | None) -> dict:
    return json.loads(stdout) if stdout else {}


def wheel_platforms(machine: str, glibc: str) -> list[str]:
    """The manylinux platform tags a base with this C library runs, newest first (PEP 600 and its aliases)."""
    major, minor = (int(part) for part in glibc.split(".")[:2])
    tags = [f"manylinux_{major}_{m}_{machine}" for m in range(minor, 4, -1)]
    legacy = {17: "manylinux2014", 12: "manylinux2010", 5: "manylinux1"}
    return tags + [f"{alias}_{machine}" for since, alias in legacy.items() if (major, minor) >= (2, since)] \
        + [f"linux_{machine}"]


def dask_build_recipe(base_image: Mapping, base_probe: str, match_probe: str | None, packages: Sequence[str],
                      name: str, python: str) -> dict:
    """The recipe: `image` (name:hash), `hash`, `requirements`, `dockerfile`, `base` (python, implementation,
    glibc, platforms, user) and `match` (python, packages; empty strings and mappings without an interpreter to match)."""
    base = _probe(base_probe)
    match = _probe(match_probe)
    libc, glibc = base.get("libc", ["", ""])
    glibc = glibc if libc == "glibc" else ""
    pins = [f"{package}=={version}" for package, version in sorted(match.get("packages", {}).items()) if version]
    requirements = list(packages) + pins
    user = base_image.get("Config", {}).get("User") or ""
    install = [python, "-m", "pip", "install", "--no-cache-dir", "--no-index", "--find-links", WHEELS, "--"]
    lines = [f"FROM {base_image['Id']}", "USER root"]
    if requirements:
        lines += [f"COPY wheels {WHEELS}", f"RUN {json.dumps(install + requirements)}",
                  f"RUN {json.dumps(['rm', '-rf', WHEELS])}"]
    lines += [f"USER {user}"] if user else []
    dockerfile = "\n".join(lines) + "\n"
    platforms = wheel_platforms(base.get("machine", ""), glibc) if glibc else []
    digest = hashlib.sha256((dockerfile + "\n".join(platforms)).encode()).hexdigest()[:16]
    return {
        "image": f"{name}:{digest}",
        "hash": digest,
        "requirements": requirements,
        "dockerfile": dockerfile,
        "base": {"python": base.get("python", ""),
                 "implementation": {"cpython": "cp", "pypy": "pp"}.get(base.get("implementation"), "cp"),
                 "glibc": glibc, "platforms": platforms, "user": user},
        "match": {"python": match.get("python", ""), "packages": match.get("packages", {})},
    }


class FilterModule:
    def filters(self):
        return {"dask_build_recipe": dask_build_recipe}
