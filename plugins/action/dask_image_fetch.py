"""Action of adhoc.dask_cluster.dask_image_fetch: fetch a large file from a machine, showing progress.

Under become, ansible.builtin.fetch reads the file with slurp: the whole file, base64-encoded, in memory on the
machine and again on the controller, many GB for an image archive. This fetches it in chunks instead: for each,
the machine (with become, as for any module) copies the next chunk_size bytes of SRC into a file of the task's
temporary directory, which the connecting user owns, and the connection fetches that file as it fetches any
file (SSH: sftp or scp, binary and streamed to disk). The controller appends each chunk to a private temporary
file beside DEST, prints bytes, percent and rate every progress_interval seconds, checks the SHA-256 of what it
got against the machine's, and only then renames it to DEST. Memory stays within one chunk on the machine (dd's
buffer) and a small buffer on the controller. A fetch that fails part-way, or whose checksum differs, leaves no
chunk on the machine and no partial file on the controller.
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
        args = self.chunked_arguments(src={"type": "str", "required": True}, dest={"type": "path", "required": True})
        src, dest = args["src"], os.path.abspath(args["dest"])
        if not os.path.isdir(os.path.dirname(dest)):
            raise AnsibleActionFail(f"{os.path.dirname(dest)} is not a directory on the controller")
        if self._task.check_mode:  # the caller decides whether the controller needs the file
            return {**result, "changed": True, "dest": dest}

        host = task_vars.get("inventory_hostname", "?")
        handle, partial = tempfile.mkstemp(dir=os.path.dirname(dest), prefix=f"{os.path.basename(dest)}.",
                                           suffix=".partial")
        tmpdir = None
        try:
            with os.fdopen(handle, "wb") as out:
                tmpdir = self._make_tmp_path()  # before the first module run, which would otherwise make its own
                progress = Progress(host, ("fetching", "fetched"), os.path.basename(dest),
                                    self._stat(src, host, task_vars, checksum=False)["size"],
                                    args["progress_interval"])
                checksum = self._receive(src, out, tmpdir, args["chunk_size"], progress)
            if self._stat(src, host, task_vars, checksum=True)["checksum"] != checksum:
                raise AnsibleActionFail(f"{dest} does not match {src} on {host} (SHA-256 differs): "
                                        "the fetch was corrupted; run again")
            os.replace(partial, dest)
        finally:
            if os.path.exists(partial):
                os.unlink(partial)
            if tmpdir:
                self._remove_tmp_path(tmpdir, force=True)
        progress.finished()
        return {**result, "changed": True, "dest": dest, "checksum": checksum, "size": progress.size}

    def _receive(self, src: str, out, tmpdir: str, chunk_size: int, progress: Progress) -> str:
        """Fetch src chunk by chunk, appending to out; returns the SHA-256 of what came."""
        quote, host, size = self._connection._shell.quote, progress.host, progress.size
        chunk_path = self._connection._shell.join_path(tmpdir, "chunk")
        got, digest = 0, hashlib.sha256()
        # The connecting user makes the chunk file, so that it can fetch what the become user writes into it.
        self.shell_step(f"touch {quote(chunk_path)}", host, sudoable=False)
        with tempfile.TemporaryDirectory() as local:
            local_chunk = os.path.join(local, "chunk")
            while got < size:
                # dd seeks to the chunk; one read of a regular file gives the whole block unless the file ends.
                self.shell_step(f"dd if={quote(src)} of={quote(chunk_path)} bs={chunk_size} "
                                f"skip={got // chunk_size} count=1", host)
                self._connection.fetch_file(chunk_path, local_chunk)
                expected, came = min(chunk_size, size - got), os.path.getsize(local_chunk)
                if came != expected:
                    raise AnsibleActionFail(f"{src} on {host} gave {came} bytes at offset {got} where {expected} "
                                            "were due (did it change?): run again")
                with open(local_chunk, "rb") as chunk:
                    while piece := chunk.read(1 << 20):
                        digest.update(piece)
                        out.write(piece)
                got += expected
                progress.advanced(got)
        return digest.hexdigest()

    def _stat(self, path: str, host: str, task_vars: dict, checksum: bool) -> dict:
        found = self._execute_module("ansible.legacy.stat", task_vars=task_vars, module_args={
            "path": path, "get_checksum": checksum, "checksum_algorithm": "sha256"})
        if found.get("failed") or not found.get("stat", {}).get("isreg"):
            raise AnsibleActionFail(f"{path} is not a file on {host}: {found.get('msg', 'no such file')}")
        return found["stat"]
