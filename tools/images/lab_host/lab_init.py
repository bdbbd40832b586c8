#!/usr/bin/python3
"""PID 1 (under tini) of a lab host: a container that behaves like a small machine with its own Docker
engine and sshd, reachable over SSH at its own address.

Docker mounts /sys and the cgroup hierarchies read-only in an unprivileged container; the inner engine needs
them writable, so remount them first. Then host keys, the test's public key (LAB_AUTHORIZED_KEY), dockerd and
sshd; /run/lab-ready appears once the inner engine answers. The public key comes from a mounted file
(/etc/lab/authorized_key) or the LAB_AUTHORIZED_KEY environment variable.
"""
import glob
import os
import shlex
import subprocess
import sys
import time

USER = "ansible"
KEY_FILE = "/etc/lab/authorized_key"


def remount_writable() -> None:
    for path in ["/sys", "/proc/sys", *sorted(glob.glob("/sys/fs/cgroup/*"))]:
        subprocess.run(["mount", "-o", "remount,bind,rw", path], stderr=subprocess.DEVNULL)


def authorize_key() -> None:
    key = os.environ.get("LAB_AUTHORIZED_KEY", "").strip()
    if os.path.exists(KEY_FILE):
        with open(KEY_FILE) as fh:
            key = fh.read().strip()
    if not key:
        return
    ssh_dir = f"/home/{USER}/.ssh"
    os.makedirs(ssh_dir, mode=0o700, exist_ok=True)
    with open(f"{ssh_dir}/authorized_keys", "w") as fh:
        fh.write(key + "\n")
    os.chmod(f"{ssh_dir}/authorized_keys", 0o600)
    subprocess.run(["chown", "-R", f"{USER}:{USER}", ssh_dir], check=True)


def main() -> None:
    remount_writable()
    subprocess.run(["ssh-keygen", "-A"], check=True, stdout=subprocess.DEVNULL)
    authorize_key()
    os.makedirs("/run/sshd", exist_ok=True)
    log = open("/var/log/dockerd.log", "ab")
    # The lab's registry (tools/lab_registry.py) speaks plain HTTP on the lab networks' gateways. LAB_DOCKERD_ARGS
    # gives one machine more, such as a runtime named nvidia (runc under that name) for the GPU checks.
    subprocess.Popen(["dockerd", "--storage-driver", "overlay2", "--insecure-registry", "172.28.0.0/16",
                      *shlex.split(os.environ.get("LAB_DOCKERD_ARGS", ""))], stdout=log, stderr=log)
    subprocess.run(["/usr/sbin/sshd"], check=True)
    for _ in range(240):
        if subprocess.run(["docker", "version"], capture_output=True).returncode == 0:
            open("/run/lab-ready", "w").close()
            break
        time.sleep(0.25)
    else:
        print("lab_init: dockerd did not start; see /var/log/dockerd.log", file=sys.stderr)
    while True:  # tini reaps; we only keep the machine alive
        time.sleep(3600)


if __name__ == "__main__":
    main()
