"""Compare the versions Dask's components run, from inside a client container of the cluster.

Run with the image's Python: `python - ADDRESS CLIENT_NAME < dask_versions.py`, or its text after `python -c`.
Dask's own get_versions(check=True) only warns; this prints JSON with every component's versions and the
mismatches, split into required packages (a mismatch breaks or corrupts work) and optional ones (worth a
warning).
"""
import json
import sys
import warnings

from distributed import Client

REQUIRED = ["python", "dask", "distributed", "cloudpickle", "msgpack", "tornado", "toolz"]
OPTIONAL = ["numpy", "pandas"]


def comparable(package, version):
    # Python's patch level does not change pickles or protocols; its major.minor does.
    if package == "python" and version:
        return ".".join(str(version).split(".")[:2])
    return version


def main():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with Client(sys.argv[1], timeout=60) as client:
            versions = client.get_versions()
            names = {addr: str(w["name"]) for addr, w in client.scheduler_info(n_workers=-1)["workers"].items()}
    components = {f"client ({sys.argv[2]})": versions["client"]["packages"],
                  "scheduler": versions["scheduler"]["packages"]}
    for address, info in versions["workers"].items():
        components[f"worker {names.get(address, address)}"] = info["packages"]
    mismatches = {}
    for package in REQUIRED + OPTIONAL:
        seen = {comparable(package, pkgs.get(package)) for pkgs in components.values()}
        if len(seen) > 1:
            mismatches[package] = {name: pkgs.get(package) for name, pkgs in components.items()}
    table = [f"{'package':<12} {'component':<28} version"]
    for package, by_component in mismatches.items():
        table += [f"{package:<12} {name:<28} {version}" for name, version in by_component.items()]
    print(json.dumps({
        "versions": {p: components["scheduler"].get(p) for p in REQUIRED + OPTIONAL},
        "required": sorted(p for p in mismatches if p in REQUIRED),
        "optional": sorted(p for p in mismatches if p in OPTIONAL),
        "table": "\n".join(table),
    }))


main()
