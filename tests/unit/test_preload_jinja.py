"""The callback preload_jinja: it loads the collection's Jinja plugins in the controller, so that the per-machine
forks inherit them."""
import subprocess
import sys

from collection import ROOT, collections_path


def test_after_it_the_collections_filters_and_tests_are_loaded(tmp_path):
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
    for kind in ("filter", "test"):
        for path in (ROOT / "plugins" / kind).glob("*.py"):
            assert f"ansible_collections.adhoc.dask_cluster.plugins.{kind}.{path.stem}" in loaded
