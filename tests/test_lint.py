"""Lint as a teammate: yamllint (strict .yamllint) and ansible-lint on the production profile."""
import json

from conftest import BIN, ROOT, run


def test_yamllint_is_clean():
    result = run(str(BIN / "yamllint"), "--strict", ".")
    assert result.returncode == 0, result.stdout + result.stderr


def test_ansible_lint_production_profile_is_clean():
    result = run(str(BIN / "ansible-lint"), "--offline", env={"ANSIBLE_COLLECTIONS_PATH": "./.collections"})
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_variable_tables_and_role_readmes_match_the_argument_specs():
    result = run(str(BIN / "python"), "tools/role_docs.py", "--check")
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_plugin_documentation_parses():
    """ansible-doc reads each module's (and action's) DOCUMENTATION, EXAMPLES and RETURN as YAML; ansible-lint
    only warns when one does not parse."""
    modules = sorted(path.stem for path in (ROOT / "plugins" / "modules").glob("*.py"))
    result = run(str(BIN / "ansible-doc"), "--json", *(f"adhoc.dask_cluster.{name}" for name in modules))
    assert result.returncode == 0 and "ERROR" not in result.stderr, result.stderr
    docs = json.loads(result.stdout)
    assert sorted(docs) == [f"adhoc.dask_cluster.{name}" for name in modules]
    for name, doc in docs.items():
        assert doc["doc"]["short_description"] and doc["examples"] and doc["doc"]["options"], name
