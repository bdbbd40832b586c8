"""Action plugin adhoc.dask_cluster.dask_directories: the collection's directories on a machine, with their small
files, owners and modes, in one run.

A machine's keys and certificates, the workers' spill space, the notebook directory and the Jupyter token used
to be a file task each, or a module run (about ten round trips for the three key files alone). This runs
plugin_utils/machine_program.py once for all of them.
"""
from __future__ import annotations

from ansible.errors import AnsibleActionFail

from ansible_collections.adhoc.dask_cluster.plugins.plugin_utils.machine_action import MachineProgramAction
from ansible_collections.adhoc.dask_cluster.plugins.plugin_utils.machine_program import MAX_FILE_BYTES

ARGUMENT_SPEC = {
    "root": {"type": "str", "required": True},
    "directories": {"type": "list", "elements": "dict", "required": True, "options": {
        "path": {"type": "str", "required": True},
        "owner": {"type": "str", "required": True},
        "group": {"type": "str", "required": True},
        "mode": {"type": "raw", "required": True},
        "files": {"type": "list", "elements": "dict", "default": [], "options": {
            "name": {"type": "str", "required": True},
            "content": {"type": "str", "no_log": True},
            "src": {"type": "path"},
            "mode": {"type": "raw", "required": True},
        }},
    }},
}


def octal_mode(value, where: str) -> int:
    """'0500' (a string, read as octal, as the file module does) or 320 (YAML already read 0500 as octal)."""
    if isinstance(value, int):
        return value
    try:
        return int(str(value), 8)
    except ValueError:
        raise AnsibleActionFail(f"{where}: mode {value!r} must be octal, such as '0500'") from None


class ActionModule(MachineProgramAction):
    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        args = self.validate_argument_spec(argument_spec=ARGUMENT_SPEC)[1]
        directories = []
        for directory in args["directories"]:
            if not directory["path"].startswith("/"):
                raise AnsibleActionFail(f"directories: path {directory['path']!r} must be absolute")
            files = []
            for item in directory["files"]:
                if "/" in item["name"] or item["name"] in ("", ".", ".."):
                    raise AnsibleActionFail(f"files: {item['name']!r} must be a plain file name inside "
                                            f"{directory['path']}")
                files.append({"name": item["name"], "content": self._content(item, directory["path"]),
                              "mode": octal_mode(item["mode"], f"{directory['path']}/{item['name']}")})
            directories.append({**directory, "mode": octal_mode(directory["mode"], directory["path"]),
                                "files": files})
        params = {"root": args["root"], "directories": directories, "check_mode": bool(self._task.check_mode)}
        return {**result, **self.run_remote("directories", params, task_vars)}

    @staticmethod
    def _content(item: dict, where: str) -> str:
        """A file's content: given, or read here on the controller from src, so that a private key never has to be
        a task argument (arguments show with display_args_to_stdout and at -vvv)."""
        if (item["content"] is None) == (item["src"] is None):
            raise AnsibleActionFail(f"files: {item['name']!r} in {where} needs exactly one of content and src")
        if item["content"] is not None:
            return item["content"]
        try:
            with open(item["src"], "rb") as handle:
                data = handle.read(MAX_FILE_BYTES + 1)
        except OSError as exc:
            raise AnsibleActionFail(f"files: cannot read {item['src']} on the controller: {exc}") from None
        if len(data) > MAX_FILE_BYTES:
            raise AnsibleActionFail(f"files: {item['src']} is larger than a key, certificate or token can be")
        return data.decode()
