"""tools/role_docs.py: docs/variables.md's tables and the roles' READMEs written from the argument specs, on a
checkout made here (roles with small specs of their own), and --check telling which file went stale."""
import importlib.util
import textwrap

import pytest
import yaml
from collection import ROOT

spec = importlib.util.spec_from_file_location("role_docs", ROOT / "tools" / "role_docs.py")
role_docs = importlib.util.module_from_spec(spec)
spec.loader.exec_module(role_docs)

OPTIONS = {
    "{role}_state": {"description": "State of the I(thing); C(absent) removes it.", "type": "str",
                     "choices": ["started", "absent"], "default": "started"},
    "{role}_threads": {"description": ["Threads per process.", "Unset means one per CPU."], "type": "int"},
    "{role}_args": {"description": "Extra arguments | for C(dask worker).", "type": "list", "default": []},
}


def make_role(root, role, entry="main"):
    options = {name.format(role=role): option for name, option in OPTIONS.items()}
    specs = {entry: {"short_description": f"Run the {role} (C(dask {role})).",
                     "description": [f"The {role} in a container.", "Its C(Client()) joins."],
                     "options": options}}
    if entry != "preflight":
        specs["preflight"] = {"short_description": "Check the inputs.", "options": options}
    specs["wait"] = {"short_description": "Wait for it.",
                     "options": {f"{role}_timeout": {"description": "Seconds.", "type": "int", "default": 120}}}
    (root / "roles" / role / "meta").mkdir(parents=True)
    (root / "roles" / role / "defaults").mkdir()
    # The defaults file wins over the spec's default, as Ansible reads them.
    (root / "roles" / role / "defaults" / "main.yml").write_text(f"---\n{role}_args: [--nanny]\n")
    # Dumped in this order, with an anchor for the shared options, as the real specs are written.
    (root / "roles" / role / "meta" / "argument_specs.yml").write_text(
        yaml.dump({"argument_specs": specs}, sort_keys=False))


@pytest.fixture
def checkout(tmp_path):
    for role in role_docs.ROLES:
        make_role(tmp_path, role, entry="preflight" if role == "dask" else "main")
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "variables.md").write_text(f"# Variables\n\nBefore.\n\n{role_docs.BEGIN}\nold\n"
                                                    f"{role_docs.END}\n\nAfter.\n")
    return tmp_path


def test_ansible_doc_markup_becomes_markdown():
    assert role_docs.markup("Run C(dask worker), or I(state=absent); C(Client()) joins.") == \
        "Run `dask worker`, or *state=absent*; `Client()` joins."
    assert role_docs.markup(["One.", "Two."]) == "One. Two."
    assert role_docs.cell("a | b\nc") == "a \\| b c"


def test_a_readme_says_what_the_role_does_its_entry_points_and_its_variables(checkout):
    readme = role_docs.readme(checkout, "dask_worker")
    assert readme.startswith(role_docs.README_NOTE + "\n# adhoc.dask_cluster.dask_worker\n\n"
                             "Run the dask_worker (`dask dask_worker`).\n\nThe dask_worker in a container.\n\n"
                             "Its `Client()` joins.\n")
    assert textwrap.dedent("""\
        ## Entry points

        - `main`: Run the dask_worker (`dask dask_worker`).
        - `preflight`: Check the inputs.
        - `wait`: Wait for it.

        ## Variables

        | variable | type | default | what it does |
        |---|---|---|---|
        | `dask_worker_state` | str: `started`, `absent` | `started` | State of the *thing*; `absent` removes it. |
        | `dask_worker_threads` | int | (unset) | Threads per process. Unset means one per CPU. |
        | `dask_worker_args` | list | `[--nanny]` | Extra arguments \\| for `dask worker`. |

        ### Entry point `wait`

        | variable | type | default | what it does |
        |---|---|---|---|
        | `dask_worker_timeout` | int | `120` | Seconds. |
        """) in readme
    # preflight shares main's variables: no second table for it.
    assert "### Entry point `preflight`" not in readme


def test_the_shared_role_is_described_by_its_preflight(checkout):
    readme = role_docs.readme(checkout, "dask")
    assert "\nRun the dask (`dask dask`).\n" in readme and "| `dask_state` |" in readme


def test_the_variable_tables_replace_only_what_lies_between_the_markers(checkout):
    text = role_docs.outputs(checkout)[role_docs.VARIABLES]
    assert text.startswith(f"# Variables\n\nBefore.\n\n{role_docs.BEGIN}\n### `dask`: Run the dask (`dask dask`).\n")
    assert text.endswith(f"{role_docs.END}\n\nAfter.\n") and "\nold\n" not in text
    assert [line.split("`")[1] for line in text.splitlines() if line.startswith("### ")] == role_docs.ROLES


def test_check_names_each_stale_file_until_the_files_are_written(checkout):
    with pytest.raises(SystemExit, match="docs/variables.md, roles/dask/README.md, roles/dask_scheduler/README.md, "
                                         "roles/dask_worker/README.md differ"):
        role_docs.main(["--check"], checkout)
    role_docs.main([], checkout)
    role_docs.main(["--check"], checkout)
    readme = checkout / "roles" / "dask_scheduler" / "README.md"
    readme.write_text(readme.read_text() + "A hand-written line.\n")
    with pytest.raises(SystemExit, match=r"^role_docs: roles/dask_scheduler/README.md differ"):
        role_docs.main(["--check"], checkout)
