"""Lint as a teammate: yamllint (strict .yamllint) and ansible-lint on the production profile."""
from conftest import BIN, run


def test_yamllint_is_clean():
    result = run(str(BIN / "yamllint"), "--strict", ".")
    assert result.returncode == 0, result.stdout + result.stderr


def test_ansible_lint_production_profile_is_clean():
    result = run(str(BIN / "ansible-lint"), "--offline", env={"ANSIBLE_COLLECTIONS_PATH": "./.collections"})
    assert result.returncode == 0, result.stdout + result.stderr


def test_readme_variable_tables_match_the_argument_specs():
    result = run(str(BIN / "python"), "tools/role_docs.py", "--check")
    assert result.returncode == 0, result.stdout + result.stderr
