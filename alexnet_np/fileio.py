"""Careful file access: regular files only, one clear line for a full disk, a run-folder lock.

- :func:`open_regular` opens a file for reading only if it is a regular file. A FIFO named
  like an image would block ``open()`` forever (and Ctrl-C with it), a device could be
  endless; both are refused with one line.
- :func:`tmp_name` gives a temporary name no other process uses (pid + random part), so two
  writers never share a half-written file; :func:`write_error` turns an ``OSError`` from a
  write into one line that says what to do (a full disk says so).
- :class:`RunLock` locks a run folder for one training process (``RUN_DIR/.lock``, with
  ``flock``: the kernel releases it when the holder dies, so a killed run never leaves a lock
  that blocks the next one). The file names the holder: pid, host, start time.
"""

import errno
import json
import os
import secrets
import socket
import stat
import time

from .errors import UserError

try:  # POSIX; elsewhere runs are not locked
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None

FULL_DISK = (errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC))


def file_kind(mode):
    """A word for what a non-regular file is ("folder", "FIFO", "device", ...)."""
    if stat.S_ISDIR(mode):
        return "folder"
    if stat.S_ISFIFO(mode):
        return "FIFO (named pipe)"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "device"
    if stat.S_ISSOCK(mode):
        return "socket"
    return "special file"


def why_unreadable(path, err):
    """A short reason for an OSError raised while opening ``path``."""
    if err.errno == errno.ENOENT and os.path.islink(path):
        return "a dangling symbolic link"
    if err.errno == errno.ELOOP:
        return "a symbolic link loop"
    return err.strerror or type(err).__name__


def check_regular(path):
    """None if ``path`` is (a link to) a readable regular file, else a short reason."""
    try:
        mode = os.stat(path).st_mode
    except OSError as err:
        return why_unreadable(path, err)
    if not stat.S_ISREG(mode):
        return f"not a regular file but a {file_kind(mode)}"
    return None


def open_regular(path, what="file"):
    """Open ``path`` for binary reading; UserError unless it is a regular file.

    The file is opened with O_NONBLOCK (which makes opening a FIFO return at once), checked
    with ``fstat``, then switched back to blocking reads.
    """
    path = os.fspath(path)
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except FileNotFoundError as err:
        if os.path.islink(path):
            raise UserError(f"{what} '{path}' is {why_unreadable(path, err)}") from None
        raise UserError(f"{what} '{path}' does not exist; check the path") from None
    except OSError as err:
        raise UserError(f"cannot open {what} '{path}' ({why_unreadable(path, err)})") from None
    mode = os.fstat(fd).st_mode
    if not stat.S_ISREG(mode):
        os.close(fd)
        raise UserError(f"{what} '{path}' is a {file_kind(mode)}, not a regular file; "
                        "pass a file")
    os.set_blocking(fd, True)
    return os.fdopen(fd, "rb")


def tmp_name(path):
    """``<path>.tmp-<pid>-<random>``: a temporary name beside ``path`` no other writer uses."""
    return f"{os.fspath(path)}.tmp-{os.getpid()}-{secrets.token_hex(4)}"


def remove_quietly(path):
    try:
        os.remove(path)
    except OSError:
        pass


def write_error(err, path, what):
    """One-line UserError for an OSError raised while writing ``what`` at ``path``."""
    if err.errno in FULL_DISK:
        return UserError(f"cannot write {what} {path}: the disk is full ({err.strerror}); free "
                         f"some space or choose a folder on another disk, then run again")
    return UserError(f"cannot write {what} {path} ({err.strerror or err}); check that the "
                     "folder exists and is writable")


def pid_alive(pid):
    """True if a process with this id exists on this machine."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class RunLock:
    """``with RunLock(run_dir):`` - one training process per run folder.

    A second process gets one line naming the holder (pid, host, start time). The lock is an
    ``flock`` on ``RUN_DIR/.lock``; the kernel drops it when the holder exits or is killed,
    so there are no stale locks (the file itself stays, holding the last holder's name).
    """

    def __init__(self, run_dir):
        self.path = os.path.join(os.fspath(run_dir), ".lock")
        self.fd = None

    def __enter__(self):
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as err:
            raise write_error(err, self.path, "the run folder's lock file") from None
        if fcntl is not None:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                holder = self.holder(fd)
                os.close(fd)
                raise UserError(f"{os.path.dirname(self.path)} is in use by another training "
                                f"run ({holder}); wait for it to finish or use another "
                                "--out") from None
        info = {"pid": os.getpid(), "host": socket.gethostname(),
                "started": time.strftime("%Y-%m-%d %H:%M:%S %Z")}
        try:
            os.ftruncate(fd, 0)
            os.write(fd, (json.dumps(info) + "\n").encode())
        except OSError as err:
            os.close(fd)
            raise write_error(err, self.path, "the run folder's lock file") from None
        self.fd = fd
        return self

    @staticmethod
    def holder(fd):
        """'pid P on HOST since TIME' from the lock file, as far as it can be read."""
        try:
            info = json.loads(os.pread(fd, 4096, 0).decode() or "{}")
            return f"pid {info['pid']} on {info['host']} since {info['started']}"
        except (OSError, ValueError, KeyError, TypeError):
            return "holder unknown"

    def __exit__(self, *exc):
        if self.fd is not None:
            os.close(self.fd)  # closing drops the flock
            self.fd = None
        return False
