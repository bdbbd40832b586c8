"""Lint as a teammate: yamllint (strict .yamllint) and ansible-lint on the production profile."""
import ast
import json

import pytest
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


# The class and method through which Ansible finds a file's Jinja plugins, by plugin type.
JINJA_PLUGINS = {"filter": ("FilterModule", "filters"), "test": ("TestModule", "tests")}


def jinja_plugins(kind: str) -> dict[str, list[str]]:
    """{name: parameters} of every filter (or test) of plugins/<kind>/*.py: the names its FilterModule.filters()
    (TestModule.tests()) returns, each with the parameters of its function, read from the source as written
    there (a dict literal of names and module-level functions)."""
    class_name, method = JINJA_PLUGINS[kind]
    found = {}
    for path in sorted((ROOT / "plugins" / kind).glob("*.py")):
        tree = ast.parse(path.read_text(), str(path))
        functions = {node.name: node for node in tree.body if isinstance(node, ast.FunctionDef)}
        offered = [node.value for cls in tree.body if isinstance(cls, ast.ClassDef) and cls.name == class_name
                   for meth in cls.body if isinstance(meth, ast.FunctionDef) and meth.name == method
                   for node in ast.walk(meth) if isinstance(node, ast.Return) and isinstance(node.value, ast.Dict)]
        assert len(offered) == 1, f"{path}: {class_name}.{method}() returns no single dict literal"
        for key, value in zip(offered[0].keys, offered[0].values):
            assert isinstance(key, ast.Constant) and isinstance(value, ast.Name) and value.id in functions, path
            found[key.value] = [arg.arg for arg in functions[value.id].args.args]
    assert found, kind
    return found


@pytest.mark.parametrize("kind", sorted(JINJA_PLUGINS))
def test_every_filter_and_test_is_documented_and_renders(kind):
    """Every filter and test the plugins offer is documented (plugins/<kind>/<name>.yml beside its file; ansible-doc
    lists one without as UNDOCUMENTED), and ansible-doc renders each in text mode."""
    expected = sorted(f"adhoc.dask_cluster.{name}" for name in jinja_plugins(kind))
    listed = run(str(BIN / "ansible-doc"), "-t", kind, "-l", "adhoc.dask_cluster", "--json")
    assert listed.returncode == 0 and "ERROR" not in listed.stderr, listed.stderr
    listing = json.loads(listed.stdout)
    assert sorted(listing) == expected
    assert [name for name, summary in listing.items() if summary == "UNDOCUMENTED"] == []
    # Without colour: ansible-doc puts the plugin's name in bold even on a pipe.
    shown = run(str(BIN / "ansible-doc"), "-t", kind, *expected, env={"ANSIBLE_NOCOLOR": "1"})
    assert shown.returncode == 0 and "ERROR" not in shown.stderr and "WARNING" not in shown.stderr, shown.stderr
    assert [name for name in expected if f"> {kind.upper()} {name} " not in shown.stdout] == []


@pytest.mark.parametrize("kind", sorted(JINJA_PLUGINS))
def test_each_filter_and_test_documents_its_functions_arguments(kind):
    """The documented options are the function's parameters: the first is the input (_input), the others are
    positional, in the function's order; each has a type, and the documentation has an example and a return."""
    plugins = jinja_plugins(kind)
    result = run(str(BIN / "ansible-doc"), "-t", kind, "--json", *(f"adhoc.dask_cluster.{name}" for name in plugins))
    assert result.returncode == 0 and "ERROR" not in result.stderr, result.stderr
    docs = json.loads(result.stdout)
    for name, parameters in plugins.items():
        entry = docs[f"adhoc.dask_cluster.{name}"]
        doc = entry["doc"]
        assert sorted(doc["options"]) == sorted(["_input", *parameters[1:]]), name
        assert [p.strip() for p in doc.get("positional", "").split(",") if p.strip()] == parameters[1:], name
        assert all(option.get("type") for option in doc["options"].values()), name
        assert doc["short_description"] and entry["examples"] and entry["return"]["_value"]["type"], name
