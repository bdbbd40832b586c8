"""Action of adhoc.dask_cluster.dask_image_transfer: copy a large file to a machine, showing progress.

ansible.builtin.copy is silent until the whole file has landed, minutes for a 16 GB image archive. This
sends the file in chunks through the task's own connection (SSH, docker, local: whatever the machine uses),
appends each to DEST.partial on the machine, prints bytes, percent and rate every progress_interval seconds,
then checks the SHA-256 of what landed against the controller's file and only then renames it to DEST. A
transfer cut short, or one whose checksum differs, leaves no DEST and no DEST.partial behind. DEST.partial is
created exclusively and readable by its owner alone: in a directory others can write, it cannot be a file or a
link someone else placed there. The roles go further and put DEST in a fresh directory only root can enter.
"""
from __future__ import annotations

import hashlib
import os
import tempfile

from ansible.errors import AnsibleActionFail

from ansible_collections.adhoc.dask_cluster.plugins.plugin_utils.chunked_copy import ChunkedCopyAction, Progress


class ActionModule(ChunkedCopyAction):
    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        del tmp
        args = self.chunked_arguments(src={"type": "path", "required": True}, dest={"type": "str", "required": True},
                                      mode={"type": "raw", "default": "0600"})
        src, dest = args["src"], args["dest"]
        if not os.path.isfile(src):
            raise AnsibleActionFail(f"{src} is not a file on the controller")
        if self._task.check_mode:
            return {**result, "changed": True, "dest": dest}

        host = task_vars.get("inventory_hostname", "?")
        shell = self._connection._shell
        partial = f"{dest}.partial"
        tmpdir = self._make_tmp_path()
        chunk_path = shell.join_path(tmpdir, "chunk")
        progress = Progress(host, ("copying", "copied"), os.path.basename(src), os.path.getsize(src),
                            args["progress_interval"])
        try:
            checksum = self._send(src, partial, chunk_path, args["chunk_size"], progress)
            landed = self._execute_module("ansible.legacy.stat", task_vars=task_vars, module_args={
                "path": partial, "get_checksum": True, "checksum_algorithm": "sha256"})
            if landed.get("stat", {}).get("checksum") != checksum:
                raise AnsibleActionFail(f"{dest} on {host} does not match {src} (SHA-256 differs): "
                                        "the transfer was corrupted; run again")
            self.shell_step(f"chmod {args['mode']} {shell.quote(partial)} && "
                            f"mv -f {shell.quote(partial)} {shell.quote(dest)}", host)
        finally:
            self._low_level_execute_command(f"rm -f {shell.quote(partial)}")
            self._remove_tmp_path(tmpdir, force=True)
        progress.finished()
        return {**result, "changed": True, "dest": dest, "checksum": checksum, "size": progress.size}

    def _send(self, src: str, partial: str, chunk_path: str, chunk_size: int, progress: Progress) -> str:
        """Send src chunk by chunk, appending to partial; returns its SHA-256."""
        shell = self._connection._shell
        sent, digest = 0, hashlib.sha256()
        self.shell_step(f"rm -f {shell.quote(partial)} && (umask 077 && set -C && : > {shell.quote(partial)})",
                        progress.host)
        with open(src, "rb") as source, tempfile.TemporaryDirectory() as local:
            local_chunk = os.path.join(local, "chunk")
            while chunk := source.read(chunk_size):
                digest.update(chunk)
                with open(local_chunk, "wb") as fh:
                    fh.write(chunk)
                self._connection.put_file(local_chunk, chunk_path)
                self._fixup_perms2([chunk_path], execute=False)
                self.shell_step(f"cat {shell.quote(chunk_path)} >> {shell.quote(partial)} && "
                                f"rm -f {shell.quote(chunk_path)}", progress.host)
                sent += len(chunk)
                progress.advanced(sent)
        return digest.hexdigest()
