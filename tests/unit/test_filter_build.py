"""dask_image_source build's recipe and the version comparison of clients, from what the collection's own
interpreter probe prints for this test's Python (the probe as roles/dask/vars/main.yml holds it)."""
import json
import subprocess
import sys
from importlib import metadata

import pytest
import yaml
from collection import ROOT, plugin

build = plugin("filter", "dask_build")
versions = plugin("filter", "dask_versions")

PROBE = yaml.safe_load((ROOT / "roles/dask/vars/main.yml").read_text())["__dask_build_probe"]
BASE = {"Id": "sha256:" + "ab" * 32, "Config": {"User": "1000:100"}}


def installed(name: str):
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


@pytest.fixture(scope="module")
def probe() -> str:
    return subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, check=True).stdout


def test_the_probe_reports_this_python_and_its_dask_stack(probe):
    found = json.loads(probe)
    assert found["python"] == "%d.%d" % sys.version_info[:2]
    assert found["implementation"] == sys.implementation.name
    assert found["packages"] == {name: installed(name) for name in found["packages"]}
    assert {"dask", "distributed", "cloudpickle", "msgpack", "tornado", "toolz"} <= set(found["packages"])


def test_a_recipe_pins_the_matched_stack_after_the_packages_and_restores_the_user(probe):
    recipe = build.dask_build_recipe(BASE, probe, probe, ["humanize>=4"], "dask-cluster/lab", "python")
    stack = {name: version for name, version in json.loads(probe)["packages"].items() if version}
    assert recipe["requirements"] == ["humanize>=4"] + [f"{n}=={v}" for n, v in sorted(stack.items())]
    assert recipe["image"] == f"dask-cluster/lab:{recipe['hash']}" and len(recipe["hash"]) == 16
    lines = recipe["dockerfile"].splitlines()
    assert lines[0] == f"FROM {BASE['Id']}" and lines[1] == "USER root" and lines[-1] == "USER 1000:100"
    install = json.loads(lines[3].removeprefix("RUN "))
    assert install[:5] == ["python", "-m", "pip", "install", "--no-cache-dir"]
    assert "--no-index" in install and install[-len(recipe["requirements"]):] == recipe["requirements"]
    assert recipe["base"]["python"] == recipe["match"]["python"] == "%d.%d" % sys.version_info[:2]


def test_a_recipe_without_packages_or_match_only_names_the_base(probe):
    recipe = build.dask_build_recipe({"Id": BASE["Id"], "Config": {"User": ""}}, probe, "", [], "x/y", "python")
    assert recipe["requirements"] == [] and recipe["match"] == {"python": "", "packages": {}}
    assert recipe["dockerfile"] == f"FROM {BASE['Id']}\nUSER root\n"


def test_the_name_changes_with_the_recipe_and_only_with_it(probe):
    name = build.dask_build_recipe(BASE, probe, "", ["humanize"], "x/y", "python")["image"]
    assert build.dask_build_recipe(BASE, probe, "", ["humanize"], "x/y", "python")["image"] == name
    assert build.dask_build_recipe(BASE, probe, "", ["humanize==4.0"], "x/y", "python")["image"] != name
    other_base = dict(BASE, Id="sha256:" + "cd" * 32)
    assert build.dask_build_recipe(other_base, probe, "", ["humanize"], "x/y", "python")["image"] != name


def test_wheel_platforms_run_from_the_base_glibc_down_to_the_oldest_manylinux():
    platforms = build.wheel_platforms("x86_64", "2.36")
    assert platforms[0] == "manylinux_2_36_x86_64" and platforms[-1] == "linux_x86_64"
    assert {"manylinux_2_17_x86_64", "manylinux2014_x86_64", "manylinux2010_x86_64", "manylinux1_x86_64"} \
        <= set(platforms)
    assert "manylinux2014_aarch64" in build.wheel_platforms("aarch64", "2.17")
    assert "manylinux2014_x86_64" not in build.wheel_platforms("x86_64", "2.12")


def test_a_base_without_glibc_has_no_platforms(probe):
    musl = json.dumps(dict(json.loads(probe), libc=["", ""]))
    recipe = build.dask_build_recipe(BASE, musl, "", [], "x/y", "python")
    assert recipe["base"]["glibc"] == "" and recipe["base"]["platforms"] == []


def cluster_versions(probe: str, **changes) -> dict:
    found = json.loads(probe)
    return {**found["packages"], "python": f"{found['python']}.4.final.0", **changes}


def test_an_environment_matches_a_cluster_of_its_own_versions(probe):
    result = versions.dask_version_mismatches(cluster_versions(probe), probe)
    assert result["required"] == [] and result["optional"] == []
    assert len(result["table"].splitlines()) == 1 + len(versions.REQUIRED) + len(versions.OPTIONAL)


def test_a_python_minor_or_a_dask_package_apart_is_required_and_numpy_optional(probe):
    major, minor = sys.version_info[:2]
    cluster = cluster_versions(probe, python=f"{major}.{minor + 1}.0.final.0", cloudpickle="0.1", numpy="0.1")
    result = versions.dask_version_mismatches(cluster, json.loads(probe))
    assert result["required"] == ["python", "cloudpickle"] and result["optional"] == ["numpy"]
    assert "differs" in next(line for line in result["table"].splitlines() if line.startswith("cloudpickle"))


@pytest.mark.parametrize("packages, problems", [
    (["humanize", "geopandas==1.1.1", 'dask[distributed]>=2024; python_version > "3.8"'], []),
    ("humanize", ["dask_image_packages must be a list of pip requirement strings"]),
    ([3], ["dask_image_packages item 1 must be a string"]),
    (["--index-url=http://192.0.2.9/"], ["dask_image_packages item 1 '--index-url=http://192.0.2.9/' is not a pip "
                                         "requirement such as 'geopandas==1.1.1' (options, paths and URLs are not)"]),
    (["ok", "./tool.whl", "https://192.0.2.9/tool.whl", ""], [f"item {n} " for n in (2, 3, 4)]),
    (["tool @ https://192.0.2.9/tool.whl"], ["dask_image_packages item 1 'tool @ https://192.0.2.9/tool.whl' names "
                                             "a URL: packages come from the controller's package index only"]),
])
def test_only_requirements_on_the_index_pass(packages, problems):
    found = build.dask_requirement_problems(packages)
    assert len(found) == len(problems) and all(f.startswith(p) or p in f for f, p in zip(found, problems)), found
