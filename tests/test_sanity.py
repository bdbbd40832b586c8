"""ansible-test sanity on the collection as it ships (tools/sanity.py): every sanity test ansible-core has, with
the reasons of tests/sanity/ignore-2.19.txt for what cannot change."""
from conftest import BIN, run


def test_ansible_test_sanity_is_clean():
    result = run(str(BIN / "python"), "tools/sanity.py", timeout=900)
    assert result.returncode == 0, result.stdout[-20000:] + result.stderr[-5000:]
