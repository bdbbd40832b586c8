"""The callback preload_jinja: what it loads in the controller is what the collection's templates call, so that the
per-machine forks inherit it."""
import re
import subprocess
import sys

from collection import ROOT, collections_path, plugin

preload = plugin("callback", "preload_jinja")


def test_it_preloads_every_lookup_the_roles_and_playbooks_call():
    called = set()
    for path in [*ROOT.glob("roles/*/*/*.yml"), *ROOT.glob("playbooks/*.yml")]:
        called |= set(re.findall(r"""\b(?:lookup|query|q)\(\s*['"]([\w.]+)['"]""", path.read_text()))
    assert called, "no lookup found: the pattern no longer matches how the roles call them"
    assert called == set(preload.LOOKUPS)


def test_after_it_the_lookups_and_the_collections_jinja_plugins_are_loaded(tmp_path):
    collections_path(tmp_path)
    # A fresh interpreter with Ansible's collection loader, as a controller has it: this test session may have
    # imported some of these modules already.
    code = "\n".join([
        "import sys",
        "from ansible.plugins.loader import init_plugin_loader",
        f"init_plugin_loader([{str(tmp_path)!r}])",
        "from ansible_collections.adhoc.dask_cluster.plugins.callback import preload_jinja",
        "preload_jinja.load_jinja_plugins()",
        "print(' '.join(sys.modules))"])
    loaded = set(subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True, capture_output=True,
                                text=True).stdout.split())
    for name in preload.LOOKUPS:
        namespace, collection, lookup = name.split(".")
        assert f"ansible_collections.{namespace}.{collection}.plugins.lookup.{lookup}" in loaded
    for kind in ("filter", "test"):
        for path in (ROOT / "plugins" / kind).glob("*.py"):
            assert f"ansible_collections.adhoc.dask_cluster.plugins.{kind}.{path.stem}" in loaded
