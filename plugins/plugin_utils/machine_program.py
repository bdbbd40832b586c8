"""The program the collection's lean actions run on a machine: reads and removals on its Docker engine's socket,
a command run in a container (the version check, the retirement), and the collection's own directories and
small files.

It runs on the machine: plugin_utils/machine_action.py sends this file's text to the machine's Python on stdin,
with one call to `run(job, params)` appended, over the connection Ansible already holds. (The controller's
action dask_certificate imports it only for write_atomically; importing it runs nothing.) An
Ansible module costs a Python start plus importing ansible's module_utils and community.docker's API client on
the machine for each run; this program imports the standard library only (docs/architecture.md has the cost
model). It speaks the few Engine API calls it needs (the same endpoints community.docker calls)
and nothing else; everything that creates or changes containers stays with community.docker.

It prints exactly one JSON object: the job's result, or {"failed": true, "msg": ...}.
"""
import grp
import hashlib
import http.client
import json
import os
import pwd
import re
import shutil
import socket
import stat
import sys
import tempfile
import threading
import time
from urllib.parse import quote, urlencode

DEFAULT_SOCKET = "/var/run/docker.sock"
# Order in which a machine's containers are reported: the workers before the processes they talk to.
REMOVAL_ORDER = {"worker": 0, "jupyter": 1, "scheduler": 2}
# Seconds a machine's retirement may take: the scheduler moves the data its workers hold to the others.
RETIRE_TIMEOUT = 600


class JobError(Exception):
    """A failure the job explains in its message (what is wrong on this machine, and what to do)."""


class UnixConnection(http.client.HTTPConnection):
    def __init__(self, path, timeout):
        http.client.HTTPConnection.__init__(self, "localhost", timeout=timeout)
        self.socket_path = path

    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(self.timeout)
        self.sock.connect(self.socket_path)


def socket_path():
    """The engine's socket: DOCKER_HOST when it names a unix socket (as community.docker reads it), else the
    default. An engine reached over TCP is community.docker's job, not this program's."""
    host = os.environ.get("DOCKER_HOST", "")
    if not host:
        return DEFAULT_SOCKET
    if host.startswith("unix://"):
        return host[len("unix://"):]
    raise JobError("DOCKER_HOST is %s on this machine; the collection reaches Docker on a unix socket only: "
                   "unset DOCKER_HOST for the Ansible user, or point it at unix:///var/run/docker.sock" % host)


def call(method, path, query=None, timeout=60, missing_ok=False, body=None, raw=False):
    """One Engine API call; returns the decoded JSON body (None when empty, or 404 with missing_ok), or with
    raw the bytes as they came (a stream the engine ends by closing the connection)."""
    url = path + ("?" + urlencode(query) if query else "")
    where = socket_path()
    connection = UnixConnection(where, timeout)
    headers = {"Host": "docker"}
    if body is not None:
        body = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    try:
        connection.request(method, url, body=body, headers=headers)
        response = connection.getresponse()
        content = response.read()
    except (OSError, http.client.HTTPException) as exc:
        raise JobError("Docker does not answer on %s (%s): start the Docker engine on this machine, and let "
                       "the Ansible user (or become) use its socket" % (where, exc))
    finally:
        connection.close()
    if response.status == 404 and missing_ok:
        return None
    if response.status >= 400:
        try:
            message = json.loads(content.decode()).get("message", "")
        except ValueError:
            message = content.decode(errors="replace")
        raise JobError("Docker refused %s %s (HTTP %d): %s" % (method, path, response.status, message))
    if raw:
        return content
    return json.loads(content.decode()) if content.strip() else None


def listening_ports():
    """The TCP ports something listens on in the machine's network namespace (any address, IPv4 or IPv6): the
    kernel's socket tables, where state 0A is LISTEN. The cluster's containers use the host's network, so a port
    taken here is a port they cannot bind."""
    ports = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(table) as lines:
                next(lines)  # the header
                for line in lines:
                    fields = line.split()
                    if len(fields) > 3 and fields[3] == "0A":
                        ports.add(int(fields[1].rsplit(":", 1)[1], 16))
        except OSError:  # no IPv6 on this machine
            continue
    return sorted(ports)


# What the collection reads of the engine and of each container. A container's command, environment, mounts and
# other labels are its owner's business (they may hold someone's secrets) and would show in any -v output.
HOST_INFO_FIELDS = ("NCPU", "MemTotal", "ServerVersion", "Runtimes")
CONTAINER_FIELDS = ("Id", "Names", "Image", "ImageID", "State", "Status", "Ports")
LABEL_PREFIX = "io.github.adhoc.dask_cluster."


# What status.yml reads of each of the cluster's own containers, from `docker inspect`: its State, without
# the process ID, and how often the engine restarted it.
STATE_FIELDS = ("Status", "Running", "Paused", "Restarting", "OOMKilled", "ExitCode", "Error", "StartedAt",
                "FinishedAt")


def container_summary(container, inspect_label=None):
    summary = {field: container.get(field) for field in CONTAINER_FIELDS}
    summary["Labels"] = {key: value for key, value in (container.get("Labels") or {}).items()
                         if key.startswith(LABEL_PREFIX)}
    if inspect_label and summary["Labels"].get(inspect_label[0]) == inspect_label[1]:
        summary["Details"] = container_details(container["Id"])
    return summary


def container_details(container_id):
    """The container's state as `docker inspect` shows it (health status included), and its restart count;
    None when it went away since it was listed."""
    inspected = call("GET", "/containers/%s/json" % quote(container_id), missing_ok=True)
    if inspected is None:
        return None
    state = inspected.get("State") or {}
    details = {field: state.get(field) for field in STATE_FIELDS}
    details["Health"] = (state.get("Health") or {}).get("Status")
    details["RestartCount"] = inspected.get("RestartCount")
    return details


def machine_info(params):
    """What up.yml's first contact needs: the engine's size, every container (names, state, ports, image and
    this collection's labels only), and the images under a reference (as `docker_host_info` returns them); and
    the TCP ports in use."""
    info = call("GET", "/info")
    inspect_label = tuple(params["inspect_label"].split("=", 1)) if params.get("inspect_label") else None
    return {
        "changed": False,
        "host_info": {field: info.get(field) for field in HOST_INFO_FIELDS},
        "containers": [container_summary(c, inspect_label) for c in call("GET", "/containers/json", {"all": 1})],
        "images": call("GET", "/images/json",
                       {"filters": json.dumps({"reference": [params["image"]]})}) if params.get("image") else [],
        "listening": listening_ports(),
        "user": pwd.getpwuid(os.geteuid()).pw_name if os.geteuid() else "root",
        "paths": {setting: describe_path(path) for setting, path in (params.get("paths") or {}).items()},
        "root": describe_root(params["root"]) if params.get("root") else None,
        "secrets": describe_secrets(params.get("secrets_group"), params.get("secrets_paths") or []),
        "digests": {path: file_digest(path) for path in params.get("digests") or []},
    }


def file_digest(path):
    """SHA-256 of a small regular file, read as read_small_file reads it; None for anything else or nothing."""
    try:
        content = read_small_file(path)
    except JobError:
        return None
    return None if content is None else hashlib.sha256(content).hexdigest()


def describe_secrets(group, paths):
    """The group that may read the cluster's keys and token: its ID (None when the machine has no such group
    yet), its members, and the users whose primary group it is (all of whom could read them); and the keys,
    the token and their directories, each as describe_path says."""
    found = {"gid": None, "members": [], "primary_of": []}
    try:
        entry = grp.getgrnam(group) if group else None
    except KeyError:
        entry = None
    if entry is not None:
        found.update(gid=entry.gr_gid, members=list(entry.gr_mem),
                     primary_of=[user.pw_name for user in pwd.getpwall() if user.pw_gid == entry.gr_gid])
    found["paths"] = {path: describe_path(path) for path in paths}
    return found


# The file that marks a cluster's directory (<data_root>/<cluster>) as made by this collection: only inside a
# marked directory does it create, re-own or remove anything.
MARKER = ".adhoc.dask_cluster"
# What a cluster's directory held before it was marked: such a directory is the collection's and is marked.
UNMARKED_LAYOUT = {"tls", "jupyter", "worker-space", "notebooks"}
# Small files only: keys, certificates and tokens are a few KiB.
MAX_FILE_BYTES = 1 << 20


def describe_path(path):
    """Where a path leads (symbolic links and '..' resolved), whether something is there at the end of its links
    (`resolves`), and, when it exists, what it is and who owns it (not following a last link)."""
    described = {"real": os.path.realpath(path), "resolves": os.path.exists(path), "exists": False, "dir": False}
    try:
        status = os.lstat(path)
    except OSError:
        return described
    described.update(exists=True, dir=stat.S_ISDIR(status.st_mode), uid=status.st_uid, gid=status.st_gid,
                     mode=stat.S_IMODE(status.st_mode))
    return described


def root_is_ours(root):
    """True when the cluster's directory is missing, marked, or holds only what the collection made there."""
    if not os.path.lexists(root):
        return True
    if os.path.islink(root) or not os.path.isdir(root):
        return False
    entries = set(os.listdir(root))
    return MARKER in entries or entries <= UNMARKED_LAYOUT


def describe_root(root):
    return dict(describe_path(root), ours=root_is_ours(root))


def inside(path, root):
    return path.startswith(root.rstrip("/") + "/")


def ensure_root(root, check_mode):
    """The cluster's directory exists and carries the marker; refused when it is someone else's."""
    if os.path.realpath(root) != root:
        raise JobError("%s leads to %s through a symbolic link: the collection writes only where a path leads "
                       "as written" % (root, os.path.realpath(root)))
    if not root_is_ours(root):
        raise JobError("%s exists and was not made by this collection: choose another dask_cluster_data_root or "
                       "dask_cluster_name" % root)
    if check_mode:
        return
    os.makedirs(root, 0o755, exist_ok=True)
    marker = os.path.join(root, MARKER)
    if not os.path.lexists(marker):
        descriptor = os.open(marker, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644)
        os.close(descriptor)


def usable_by(described, uid, gid):
    """Whether the container user (uid, gid) may list, enter and write a directory, by its owner and mode."""
    mode = described["mode"]
    if described["uid"] == uid:
        return mode & 0o700 == 0o700
    if described["gid"] == gid:
        return mode & 0o070 == 0o070
    return mode & 0o007 == 0o007


def remove_side_by_side(containers, graceful, stop_timeout):
    """Remove the containers side by side: those whose Id is in `graceful` get SIGTERM and stop_timeout seconds
    to close (as `docker stop`) before they go, the others go at once with force (as `docker rm -f`). A machine
    waits for its slowest container, not for their sum: a Jupyter closing its kernels holds up nothing else."""
    errors = []

    def remove(container):
        path = "/containers/%s" % quote(container["Id"])
        try:
            if container["Id"] in graceful and container.get("State") == "running":
                call("POST", path + "/stop", {"t": stop_timeout}, timeout=stop_timeout + 60, missing_ok=True)
            # Gone since the listing (removed by someone, or never restarted): that is the state asked for.
            call("DELETE", path, {"force": "true"}, missing_ok=True)
        except JobError as exc:
            errors.append(str(exc))

    threads = [threading.Thread(target=remove, args=(c,)) for c in containers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise JobError(errors[0])


def retirement_answer(stdout_lines):
    """The retirement script's answer: its last output line that is a JSON object with a list `retired`."""
    for line in reversed(stdout_lines):
        try:
            answer = json.loads(line)
        except ValueError:
            continue
        if isinstance(answer, dict) and isinstance(answer.get("retired"), list):
            return answer
    return None


# What a user may do when a retirement fails, unless the caller says otherwise.
DEFAULT_INSTEAD = "-e dask_remove_retire=false removes them without retirement, and the data they hold is lost."


def retire_workers(containers, retire, undone="removed"):
    """Retire the worker processes of each worker container through the scheduler, which moves the data they
    hold to the other workers: retire["argv"] runs in the container with the names its label
    retire["label_workers"] lists appended, and prints a JSON line {"retired": [...], "absent": [...]} (with
    retire["absent_ok"], a worker the scheduler does not know counts as retired). Any
    container whose workers were not all retired stops the job before any container is removed or restarted
    (`undone` says which; retire["instead"] says what else the user may do)."""
    retired = []
    for container in containers:
        name = container["Names"][0].lstrip("/")
        state = container.get("State")
        if state in ("created", "exited", "dead", "removing", "restarting"):
            continue  # no worker process runs in it now: there is nothing to hand on
        names = json.loads((container.get("Labels") or {}).get(retire["label_workers"]) or "[]")
        if state == "paused":
            reason = "container %s is paused: unpause it (docker unpause %s), then run again" % (name, name)
        elif not names:
            reason = "container %s does not say which workers it runs (a release before 0.10 made it): run " \
                     "up.yml once, then this again" % name
        else:
            try:
                ran = container_exec({"container": container["Id"], "argv": retire["argv"] + names,
                                      "timeout": RETIRE_TIMEOUT})
            except JobError as exc:  # every engine failure, a timeout included
                ran = {"rc": None, "stdout_lines": [], "stdout": "", "stderr": str(exc)}
            answer = retirement_answer(ran["stdout_lines"])
            # A worker the scheduler does not know holds none of its results: with absent_ok (a container about
            # to be recreated while the scheduler itself was just recreated) there is nothing to hand on.
            handed = answer and sorted(map(str, answer["retired"] + (answer["absent"] if retire.get("absent_ok")
                                                                     else [])))
            if answer is not None and handed == sorted(names):
                retired += names
                continue
            if answer is None:
                reason = "the retirement could not run in container %s: %s" % (
                    name, (ran["stderr"] or ran["stdout"] or "no answer").strip()[-600:])
            elif answer.get("absent"):
                reason = "the scheduler does not know %s (restarting, or not joined): wait until it counts " \
                         "them, then run again" % ", ".join(map(str, answer["absent"]))
            else:
                done = ", ".join(map(str, answer["retired"])) or "none"
                reason = "the scheduler retired only %s: run again" % done
        raise JobError("its workers (%s) were not retired through the scheduler, so they keep running with their "
                       "data and nothing was %s: %s. If the scheduler is down, bring the cluster back up "
                       "(up.yml) and run this again; %s"
                       % (", ".join(names) or name, undone, reason, retire.get("instead") or DEFAULT_INSTEAD))
    return retired


def cluster_containers(params):
    """Every container of the cluster on this machine (found by its label, never anything else), and those of
    them whose role is in params["roles"], workers first, then Jupyter, then the scheduler."""
    listed = call("GET", "/containers/json", {
        "all": 1, "filters": json.dumps({"label": ["%s=%s" % (params["label_cluster"], params["cluster"])]})})
    role = params["label_role"]
    ours = sorted((c for c in listed if (c.get("Labels") or {}).get(role) in params["roles"]),
                  key=lambda c: REMOVAL_ORDER.get(c["Labels"][role], 0))
    return listed, ours


def cluster_restart(params):
    """Restart the cluster's running containers of the given roles (one stopped on purpose stays stopped), the
    scheduler first, then Jupyter, then the workers. With `retire`, the workers of the worker containers are
    retired first, as for a removal, so that the data they hold moves to the other workers; when that fails,
    nothing is restarted. With `rejoin`, it then waits until the scheduler lists each restarted worker process
    again."""
    role = params["label_role"]
    ours = [c for c in reversed(cluster_containers(params)[1]) if c.get("State") == "running"]
    workers = [c for c in ours if c["Labels"][role] == "worker"]
    retired, rejoined = [], {}
    if not params["check_mode"]:
        if params.get("retire"):
            retired = retire_workers(workers, params["retire"], "restarted")
        for container in ours:
            call("POST", "/containers/%s/restart" % quote(container["Id"]), {"t": params["stop_timeout"]},
                 timeout=params["stop_timeout"] + 60)
        if params.get("rejoin"):
            for container in workers:
                rejoined.update(rejoin_workers(container, params["rejoin"]))
    return {"changed": bool(ours), "retired": retired, "rejoined": rejoined,
            "restarted": [c["Names"][0].lstrip("/") for c in ours]}


def rejoin_workers(container, rejoin):
    """Wait until the scheduler lists the worker processes of a restarted container as running again:
    rejoin["argv"] runs in it with {"names", "timeout"} as JSON appended and prints
    {"joined": {name: address}, "missing": [...]}."""
    name = container["Names"][0].lstrip("/")
    names = json.loads((container.get("Labels") or {}).get(rejoin["label_workers"]) or "[]")
    asked = json.dumps({"names": names, "timeout": rejoin["timeout"]})
    try:
        ran = container_exec({"container": container["Id"], "argv": rejoin["argv"] + [asked],
                              "timeout": rejoin["timeout"] + 60})
        answer = json.loads(ran["stdout_lines"][-1]) if ran["stdout_lines"] else None
    except (JobError, ValueError) as exc:
        ran, answer = {"stderr": str(exc), "stdout": ""}, None
    if not isinstance(answer, dict) or answer.get("missing") or "joined" not in answer:
        raise JobError("container %s was restarted, but its workers %s did not join the scheduler again within "
                       "%ds: %s. See `docker logs %s` on this machine; the machines after it were not restarted."
                       % (name, ", ".join((answer or {}).get("missing") or names), rejoin["timeout"],
                          (ran.get("stderr") or ran.get("stdout") or "no answer").strip()[-600:], name))
    return answer["joined"]


# Log lines worth showing at the end of a collection: Python's and Dask's errors.
ERROR_LINE = re.compile(rb"\b(ERROR|CRITICAL|FATAL)\b|Traceback \(most recent call last\)|\w(Error|Exception):")
ERRORS_SHOWN = 5
# The timestamp the engine puts before each frame's text when a log is asked for with timestamps (RFC 3339).
LOG_TIMESTAMP = re.compile(rb"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+Z ")


def write_log(container_id, target, query, secrets):
    """Stream a container's log (stdout and stderr, each line written when it ends) into target, with every
    secret replaced: the engine sends frames (8-byte header: stream, 3 zero bytes, length), read and written a
    piece at a time, so a log of any size takes little memory. The engine cuts a long line into several frames,
    each with its own timestamp, and the other stream's frames may come between them: each stream's line is put
    back together, with its first timestamp only, before its secrets are replaced. Returns its line count and
    its last error lines."""
    connection = UnixConnection(socket_path(), 60)
    secrets = [secret.encode() for secret in secrets if secret]
    lines, errors, pending = 0, [], {}  # stream: the start of its line not yet ended

    def write(out, line):
        nonlocal lines, errors
        for secret in secrets:
            line = line.replace(secret, b"[redacted]")
        out.write(line + b"\n")
        lines += 1
        if ERROR_LINE.search(line):
            errors = (errors + [line.decode(errors="replace")])[-ERRORS_SHOWN:]

    try:
        connection.request("GET", "/containers/%s/logs?%s" % (quote(container_id), urlencode(query)),
                           headers={"Host": "docker"})
        response = connection.getresponse()
        if response.status >= 400:
            raise JobError("Docker refused the log of %s (HTTP %d): %s"
                           % (container_id[:12], response.status, response.read(2000).decode(errors="replace")))
        with open(target, "wb") as out:
            while True:
                header = response.read(8)
                if len(header) < 8:
                    break
                stream, remaining = header[0], int.from_bytes(header[4:8], "big")
                continues_line = stream in pending and bool(query.get("timestamps"))
                while remaining:
                    piece = response.read(min(remaining, 1 << 16))
                    if not piece:
                        break
                    remaining -= len(piece)
                    if continues_line:
                        stamp = LOG_TIMESTAMP.match(piece)
                        piece = piece[stamp.end():] if stamp else piece
                        continues_line = False
                    *complete, rest = (pending.get(stream, b"") + piece).split(b"\n")
                    if complete:  # the pending line ended: rest, if any, is a line that begins now
                        pending.pop(stream, None)
                        for line in complete:
                            write(out, line)
                    if rest:
                        pending[stream] = rest
            # Lines the log ends without a newline, in the order they began.
            for rest in pending.values():
                write(out, rest)
    except (OSError, http.client.HTTPException) as exc:
        raise JobError("Docker does not answer on %s (%s)" % (socket_path(), exc))
    finally:
        connection.close()
    return lines, errors


SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def since_timestamp(since):
    """A Unix time from `since`: a Unix time already, or a duration back from now such as 30m, 2h or 1d."""
    match = re.fullmatch(r"([0-9]+)([smhd])", since)
    if match:
        return int(time.time()) - int(match.group(1)) * SECONDS[match.group(2)]
    if since.isdigit():
        return int(since)
    raise JobError("since %r is neither a Unix time nor a duration such as 30m, 2h or 1d" % since)


def login_ids(login):
    """The user Ansible logged in as before it became root, and that user's group: sudo says so in SUDO_UID and
    SUDO_GID; otherwise the login name the controller passed, when this machine knows it. None when neither."""
    if os.environ.get("SUDO_UID") and os.environ.get("SUDO_GID"):
        return int(os.environ["SUDO_UID"]), int(os.environ["SUDO_GID"])
    try:
        entry = pwd.getpwnam(login) if login else None
    except KeyError:
        entry = None
    return (entry.pw_uid, entry.pw_gid) if entry else None


def container_logs(params):
    """Write the log of each of the cluster's containers of the given roles into a new private directory, one
    file per container, with the given secrets replaced. Run as root, the files go to the user Ansible logged in
    as, so that the controller can copy them over its own connection, streamed. Nothing is left behind when a log
    cannot be written."""
    ours = cluster_containers(params)[1]
    directory = tempfile.mkdtemp(prefix="dask-cluster-logs-", dir="/tmp")
    query = {"stdout": 1, "stderr": 1, "timestamps": 1}
    logs = []
    try:
        if params.get("since"):
            query["since"] = since_timestamp(params["since"])
        if params.get("tail"):
            query["tail"] = params["tail"]
        for container in ours:
            name = container["Names"][0].lstrip("/")
            target = os.path.join(directory, name + ".log")
            lines, errors = write_log(container["Id"], target, query, params.get("secrets") or [])
            logs.append({"container": name, "role": container["Labels"][params["label_role"]], "path": target,
                         "lines": lines, "errors": errors})
        login = login_ids(params.get("login")) if os.geteuid() == 0 else None
        if login:
            for path in [directory] + [log["path"] for log in logs]:
                os.chown(path, *login)
    except BaseException:
        shutil.rmtree(directory, ignore_errors=True)
        raise
    return {"changed": False, "directory": directory, "logs": logs}


def cluster_remove(params):
    """Remove the cluster's containers of the given roles (found by label: nothing else is ever listed), then
    the collection's own paths, and those of paths_when_alone once no container of the cluster is left on the
    machine (the keys, which every role's containers read). With `retire`, the workers of the worker
    containers are retired first. Containers of graceful_roles are stopped before they are removed; the others
    are removed with force at once, as `docker rm -f` does."""
    listed, ours = cluster_containers(params)
    role = params["label_role"]
    root = params["root"]
    staying = [c for c in listed if c not in ours]
    paths = params["paths"] + ([] if staying else params.get("paths_when_alone") or [])
    for path in paths:
        if not inside(path, root) or os.path.realpath(path) != path:
            raise JobError("refusing to remove %s: the collection removes only what lies inside %s as written"
                           % (path, root))
    if paths and not root_is_ours(root):
        raise JobError("refusing to remove anything in %s: it was not made by this collection" % root)
    removed_paths = [path for path in paths if os.path.lexists(path)]
    retired = []
    if not params["check_mode"]:
        if params.get("retire"):
            retired = retire_workers([c for c in ours if c["Labels"][role] == "worker"], params["retire"])
        remove_side_by_side(ours, {c["Id"] for c in ours if c["Labels"][role] in params["graceful_roles"]},
                            params["stop_timeout"])
        for path in removed_paths:
            if os.path.isdir(path) and not os.path.islink(path):
                shutil.rmtree(path)
            else:
                os.remove(path)
        # Nothing left but the marker: the cluster's directory goes too.
        if os.path.isdir(root) and set(os.listdir(root)) <= {MARKER} and os.path.lexists(os.path.join(root, MARKER)):
            os.remove(os.path.join(root, MARKER))
            os.rmdir(root)
    return {"changed": bool(ours or removed_paths),
            "retired": retired,
            "removed": [c["Names"][0].lstrip("/") for c in ours],
            "removed_paths": removed_paths}


def container_exec(params):
    """Run a command in a running container and wait for it, as `docker exec` without a terminal: its exit code
    and its output. The engine sends stdout and stderr as frames (8-byte header: stream, 3 zero bytes, length)."""
    container = quote(params["container"])
    created = call("POST", "/containers/%s/exec" % container,
                   body={"Cmd": params["argv"], "AttachStdout": True, "AttachStderr": True})
    stream = call("POST", "/exec/%s/start" % quote(created["Id"]), body={"Detach": False, "Tty": False},
                  timeout=params["timeout"], raw=True)
    output = {1: [], 2: []}
    position = 0
    while position + 8 <= len(stream):
        kind, size = stream[position], int.from_bytes(stream[position + 4:position + 8], "big")
        output.setdefault(kind, []).append(stream[position + 8:position + 8 + size])
        position += 8 + size
    ended = call("GET", "/exec/%s/json" % quote(created["Id"]))
    stdout = b"".join(output[1]).decode(errors="replace")
    stderr = b"".join(output[2]).decode(errors="replace")
    return {"changed": False, "rc": ended["ExitCode"], "stdout": stdout, "stderr": stderr,
            "stdout_lines": stdout.splitlines()}


def owner_ids(owner, group, check_mode=False):
    """Numeric IDs of a user and group given by number or name. In check mode a name the machine does not have
    yet (a group the run would create) stands as -1: compared, it differs from every owner, so the files
    count as to be changed, and check mode changes nothing."""
    try:
        uid = int(owner) if str(owner).isdigit() else pwd.getpwnam(owner).pw_uid
        gid = int(group) if str(group).isdigit() else grp.getgrnam(group).gr_gid
    except KeyError:
        if check_mode:
            return (int(owner) if str(owner).isdigit() else -1), (int(group) if str(group).isdigit() else -1)
        raise JobError("owner %s:%s is not a user and group of this machine: set dask_container_owner to the "
                       "numeric user and group the image runs as (numbers need no account here)" % (owner, group))
    return uid, gid


def ensure_attributes(path, uid, gid, mode, check_mode):
    """Owner and mode as asked, never through a symbolic link; True when they were (or would be) changed."""
    status = os.lstat(path)
    if stat.S_ISLNK(status.st_mode):
        raise JobError("%s is a symbolic link: remove it" % path)
    changed = False
    if (status.st_uid, status.st_gid) != (uid, gid):
        changed = True
        if not check_mode:
            os.lchown(path, uid, gid)
    if stat.S_IMODE(status.st_mode) != mode:
        changed = True
        if not check_mode:
            os.chmod(path, mode)  # not a link (lstat above), and Linux has no lchmod
    return changed


def write_atomically(target, content, uid, gid, mode):
    """The new content appears whole or not at all, already with its owner and mode. mkstemp creates its file
    exclusively, and os.replace swaps the name itself: a link placed at target is replaced, never followed."""
    descriptor, temporary = tempfile.mkstemp(dir=os.path.dirname(target), prefix="." + os.path.basename(target))
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(content)
            os.fchown(handle.fileno(), uid, gid)
            os.fchmod(handle.fileno(), mode)
        os.replace(temporary, target)
    except BaseException:
        if os.path.exists(temporary):
            os.remove(temporary)
        raise


def read_small_file(target):
    """A regular file's content (None when there is none), read without following a link and only up to
    MAX_FILE_BYTES: anything else at that name is refused, not read."""
    try:
        descriptor = os.open(target, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise JobError("%s is not a regular file (%s): remove it" % (target, exc))
    # Checked before a file object is made of it: Python refuses to make one of a directory.
    status = os.fstat(descriptor)
    if not stat.S_ISREG(status.st_mode) or status.st_size > MAX_FILE_BYTES:
        os.close(descriptor)
        raise JobError("%s is not a small regular file: remove it" % target)
    with os.fdopen(descriptor, "rb") as handle:
        return handle.read(MAX_FILE_BYTES + 1)


def directories(params):
    """Inside the cluster's directory (params root, marked as the collection's): each directory exists with its
    owner and mode and holds its files with exactly their content; a file is rewritten only when its content
    differs. Outside it, a directory that exists is the user's: used as it is, never re-owned or changed, and
    refused when the container user could not use it (a missing one is created as inside). Returns the paths changed (or that would be)."""
    check_mode, changed, root = params["check_mode"], [], params["root"]
    ensure_root(root, check_mode)
    for directory in params["directories"]:
        path = directory["path"]
        uid, gid = owner_ids(directory["owner"], directory["group"], check_mode)
        if os.path.realpath(path) != path:
            raise JobError("%s leads to %s through a symbolic link: set the path it leads to"
                           % (path, os.path.realpath(path)))
        if not inside(path, root) and os.path.lexists(path):
            described = describe_path(path)
            if not described["dir"] or not usable_by(described, uid, gid):
                raise JobError("%s is not a directory that user %d, group %d may write: it lies outside %s, so the "
                               "collection uses it as it is; give that user access" % (path, uid, gid, root))
            continue
        if not os.path.lexists(path):
            changed.append(path)
            if check_mode:
                continue  # and so every file in it would be written
            os.makedirs(path, 0o700)
            ensure_attributes(path, uid, gid, directory["mode"], False)
        elif os.path.islink(path) or not os.path.isdir(path):
            raise JobError("%s is not a directory: remove it" % path)
        elif ensure_attributes(path, uid, gid, directory["mode"], check_mode):
            changed.append(path)
        for item in directory["files"]:
            target, content = os.path.join(path, item["name"]), item["content"].encode()
            if read_small_file(target) != content:
                changed.append(target)
                if not check_mode:
                    write_atomically(target, content, uid, gid, item["mode"])
            elif ensure_attributes(target, uid, gid, item["mode"], check_mode):
                changed.append(target)
    return {"changed": bool(changed), "changed_paths": changed}


JOBS = {"machine_info": machine_info, "cluster_remove": cluster_remove, "cluster_restart": cluster_restart,
        "container_logs": container_logs, "directories": directories, "container_exec": container_exec}


def run(job, params):
    try:
        result = JOBS[job](params)
    except JobError as exc:
        result = {"failed": True, "msg": str(exc)}
    except OSError as exc:
        result = {"failed": True, "msg": "%s: %s" % (type(exc).__name__, exc)}
    sys.stdout.write(json.dumps(result))
    sys.stdout.flush()
