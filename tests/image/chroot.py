"""An image's command run in its filesystem with chroot, as a container runtime would run it: as
the image's user, in its working folder, with its environment and none of this process's. The
command gets a mount namespace of its own, so its mounts (/proc, /dev, a /tmp in memory) go
when it ends; with `read_only`, the rest of the filesystem is read-only, as under Kubernetes'
readOnlyRootFilesystem with an emptyDir on /tmp.

The process started is the image's command itself (each step execs the next), so signals sent
to it reach the server, as a container's stop signal would.
"""

from __future__ import annotations

import os
import signal
import subprocess
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from tests.image import build

SCRIPT = """set -eu
root=$1 userspec=$2 read_only=$3
shift 3
if [ "$read_only" = yes ]; then
    mount --bind "$root" "$root"
    mount -o remount,bind,ro "$root"
fi
mount -t proc proc "$root/proc"
mount --bind /dev "$root/dev"
mount -t tmpfs -o size=64m,mode=1777 tmpfs "$root/tmp"
exec "$CHROOT" --userspec="$userspec" "$root" "$@"
"""


def argv(
    root: Path,
    config: dict,
    command: Sequence[str],
    env: dict[str, str] | None = None,
    read_only: bool = False,
) -> list[str]:
    unshare, chroot = build.tool("unshare"), build.tool("chroot")
    assert unshare and chroot, "unshare and chroot come with every Debian system"
    environment = [*config.get("Env", []), *(f"{k}={v}" for k, v in (env or {}).items())]
    return [
        unshare,
        "--mount",
        "--propagation",
        "private",
        "/bin/sh",
        "-c",
        f"CHROOT={chroot}\n{SCRIPT}",
        "sh",
        str(root),
        config.get("User") or "0:0",
        "yes" if read_only else "no",
        "/usr/bin/env",
        "-i",
        f"--chdir={config.get('WorkingDir') or '/'}",
        *environment,
        *command,
    ]


def run(root: Path, config: dict, command: Sequence[str], **kwargs) -> subprocess.CompletedProcess:
    """A command that ends by itself (a migration, say)."""
    env, read_only = kwargs.pop("env", None), kwargs.pop("read_only", False)
    return subprocess.run(
        argv(root, config, command, env, read_only),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=kwargs.pop("timeout", 120),
        check=False,
    )


@contextmanager
def started(
    root: Path,
    config: dict,
    command: Sequence[str],
    log: Path,
    env: dict[str, str] | None = None,
    read_only: bool = False,
) -> Iterator[subprocess.Popen]:
    """A long-running command, its output in `log`; killed on the way out if still running,
    with what it started."""
    with log.open("wb") as output:
        process = subprocess.Popen(
            argv(root, config, command, env, read_only),
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        yield process
    finally:
        if process.poll() is None:
            # The whole session: `serve` forks its worker process.
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def stopped(process: subprocess.Popen, timeout: float = 30) -> int:
    """SIGTERM, as `podman stop` and Kubernetes send it; the exit status."""
    process.send_signal(signal.SIGTERM)
    return process.wait(timeout=timeout)
