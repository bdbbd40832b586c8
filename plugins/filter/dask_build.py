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

from ansible.errors import AnsibleFilterError

try:
    from packaging.requirements import InvalidRequirement, Requirement
except ImportError:  # ansible-core depends on packaging, so a controller has it; a bare Python may not
    Requirement = None

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


def dask_requirement_problems(packages) -> list[str]:
    """One sentence for each entry of dask_image_packages that is not a pip requirement on a package of the index:
    options, URLs and paths would make the controller's pip fetch from elsewhere than its configured index."""
    if Requirement is None:
        raise AnsibleFilterError("dask_requirement_problems reads requirements with the Python package "
                                 "'packaging', which this controller's Python lacks: pip install packaging")
    if not isinstance(packages, list):
        return ["dask_image_packages must be a list of pip requirement strings"]
    problems = []
    for number, entry in enumerate(packages, 1):
        if not isinstance(entry, str):
            problems.append(f"dask_image_packages item {number} must be a string")
            continue
        try:
            requirement = Requirement(entry)
        except InvalidRequirement:
            problems.append(f"dask_image_packages item {number} '{entry}' is not a pip requirement such as "
                            f"'geopandas==1.1.1' (options, paths and URLs are not)")
            continue
        if requirement.url:
            problems.append(f"dask_image_packages item {number} '{entry}' names a URL: packages come from the "
                            f"controller's package index only")
    return problems


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
        return {"dask_build_recipe": dask_build_recipe, "dask_requirement_problems": dask_requirement_problems}
