"""The run journal behind cache and resume: one JSON line per finished cell (its typed row),
appended after its curve and artifact files are in place, so a line means the cell is
complete. A run killed at any moment leaves at most a torn last line, which loading ignores
(and the next append starts a line after); a cell that appears twice (re-run with --force, or
a failed cell tried again) counts once, the last time.

Lines are keyed by `cell_id` (`Cell.description`), which holds the method's configuration
and code fingerprints: a line is reused only by a cell of the same id, so a cell computed by
other code (an edited method) is recomputed, and a reworded description is not.

A finished run compacts the journal (`Journal.compact`): its lines become one zstd parquet
table, `cells.parquet` (a tenth of the text), which `load` reads before any lines appended
since.

A results folder has one writer at a time: a run holds its `FolderLock` from before it reads
the journal until it has written the results."""

from __future__ import annotations

import fcntl
import json
import os
import shlex
import socket
import sys
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from nnbench.errors import NNBenchError
from nnbench.results import Row, atomic_write, to_frame
from nnbench.results.artifact import Artifact, read_artifact
from nnbench.results.record import conform
from nnbench.results.table import write_parquet
from nnbench.running.measure import CellResult

JOURNAL_DIR = ".journal"
# An fsync per cell was 13.7% of a run's wall time. One per batch bounds what a power loss
# can take (a killed process loses nothing: its writes are in the OS's page cache already).
SYNC_CELLS = 256
SYNC_S = 0.5
HOLDER_WAIT_S = 1.0  # how long to wait for a new holder to write its name into the lock


def _synced(path: str, frame: pd.DataFrame) -> None:
    write_parquet(frame, path)
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _plain(value: Any) -> Any:
    """JSON for what `json` cannot write itself: numpy scalars."""
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"cannot journal {type(value).__name__}")


def _json_line(row: Row) -> str:
    # the columns that differ from their defaults (`Row.changed`); NaN and Infinity as
    # Python's json writes them
    return json.dumps(row.changed(), default=_plain)


class Journal:
    """Appends are written at once but fsynced in batches: every `sync_cells` cells or once
    `sync_s` seconds have passed since the last fsync, whichever comes first, and on `close`.

    What each way of ending loses: Ctrl-C or an exception, nothing (the runner closes the
    journal); SIGKILL or a crash of the process, nothing either (its lines are in the OS's
    page cache, which outlives it) bar a torn last line; a power loss or an OS crash, at most
    the cells appended since the last fsync, the last batch (curve and artifact files, which
    are never fsynced, may go too: such a cell loads without them)."""

    def __init__(
        self, out: str | Path, *, sync_cells: int = SYNC_CELLS, sync_s: float = SYNC_S
    ) -> None:
        self.dir = Path(out) / JOURNAL_DIR
        self.lines = self.dir / "cells.jsonl"
        self.sync_cells = sync_cells
        self.sync_s = sync_s
        self.unsynced = 0  # cells appended since the last fsync
        self._synced_at = time.monotonic()

    @property
    def checkpoint(self) -> Path:
        return self.dir / "cells.parquet"

    def load(self) -> dict[str, CellResult]:
        """Finished cells by cell_id, in the order of their last lines (the checkpoint's
        first)."""
        done: dict[str, CellResult] = {}
        for row in self._rows():
            cell_id = row.cell.cell_id
            done.pop(cell_id, None)
            done[cell_id] = CellResult(row, self._curve(cell_id), self._artifact(cell_id))
        return done

    def _rows(self) -> Iterator[Row]:
        if self.checkpoint.is_file():
            for record in conform(pd.read_parquet(self.checkpoint)).to_dict("records"):
                yield Row.from_flat(record)
        if not self.lines.is_file():
            return
        for line in self.lines.read_bytes().split(b"\n"):
            try:
                yield Row.from_flat(json.loads(line))
            except (json.JSONDecodeError, UnicodeDecodeError, KeyError, TypeError):  # a torn tail
                continue

    def compact(self) -> None:
        """The checkpoint's rows and every line after them, in order, as the checkpoint
        table, and no lines: each line kept (a cell journaled twice is there twice, as in the
        lines, and `load` counts it once), written and synced whole before the lines go, so a
        kill in between leaves lines that `load` reads again, to the same cells."""
        if not self.lines.is_file() or not self.lines.stat().st_size:
            return
        frame = to_frame(self._rows())
        atomic_write(self.checkpoint, lambda p: _synced(p, frame))
        os.truncate(self.lines, 0)
        self.unsynced = 0

    def append(self, result: CellResult) -> None:
        self.dir.mkdir(parents=True, exist_ok=True)
        cell_id = result.row.cell.cell_id
        curve, artifact = result.curve, result.artifact
        if curve is not None:
            atomic_write(
                self.dir / "curves" / f"{cell_id}.parquet",
                lambda p: curve.to_parquet(p, index=False),
            )
        if artifact is not None:
            atomic_write(self.artifact_file(cell_id), artifact.write)
        line = (_json_line(result.row) + "\n").encode()
        fd = os.open(self.lines, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o666)
        try:
            size = os.fstat(fd).st_size
            if size and os.pread(fd, 1, size - 1) != b"\n":
                line = b"\n" + line  # after a torn line, which stays a line of its own
            # one write() of a regular file: a signal (Ctrl-C) does not cut it
            while line:
                line = line[os.write(fd, line) :]
            self.unsynced += 1
            if self.unsynced >= self.sync_cells or self._since_sync() >= self.sync_s:
                self._sync(fd)
        finally:
            os.close(fd)

    def close(self) -> None:
        """Fsync the cells not yet synced. The journal stays usable (appends sync again)."""
        if self.unsynced and self.lines.is_file():
            fd = os.open(self.lines, os.O_RDONLY)
            try:
                self._sync(fd)  # fsync syncs the file, whichever descriptor wrote to it
            finally:
                os.close(fd)

    def _since_sync(self) -> float:
        return time.monotonic() - self._synced_at

    def _sync(self, fd: int) -> None:
        os.fsync(fd)
        self.unsynced, self._synced_at = 0, time.monotonic()

    def _curve(self, cell_id: str) -> pd.DataFrame | None:
        path = self.dir / "curves" / f"{cell_id}.parquet"
        return pd.read_parquet(path) if path.is_file() else None

    def _artifact(self, cell_id: str) -> Artifact | None:
        path = self.artifact_file(cell_id)
        return read_artifact(path) if path.is_file() else None

    def artifact_file(self, cell_id: str) -> Path:
        """Where a cell's artifact is journaled (the results folder links it, not a copy)."""
        return self.dir / "artifacts" / f"{cell_id}.npz"


@dataclass(frozen=True)
class Holder:
    """The run that holds a results folder, as its lock file names it."""

    pid: int
    host: str
    command: str

    @classmethod
    def of_this_process(cls, command: str) -> Holder:
        return cls(os.getpid(), socket.gethostname(), command or shlex.join(sys.argv))

    @classmethod
    def parse(cls, text: bytes) -> Holder | None:
        """The holder a lock file names; None for an empty or torn one."""
        try:
            return cls(**json.loads(text))
        except (ValueError, TypeError):
            return None

    def named(self) -> str:
        """'pid 1234' (with its host when that is not this one)."""
        here = self.host == socket.gethostname()
        return f"pid {self.pid}" if here else f"pid {self.pid} on {self.host}"


# Descriptors of the locks this process holds. A forked child (a `--jobs` worker, which never
# writes the journal) closes its copies, so that the lock goes when the parent dies, not when
# its last worker does; closing, not LOCK_UN, which would release the parent's lock too.
_HELD: set[int] = set()


def _forget_held_locks() -> None:
    for fd in _HELD:
        os.close(fd)
    _HELD.clear()


os.register_at_fork(after_in_child=_forget_held_locks)


class FolderLock:
    """One writer per results folder: `OUT/.journal/lock`, held with `flock` on a descriptor
    open for the run's lifetime. The kernel releases it when the process ends, however it
    ends, so a lock nobody holds is stale for sure (on one host) and is taken over. The file
    names its holder for the message another run gets; a run that ends cleanly empties it."""

    def __init__(self, path: Path, fd: int) -> None:
        self.path = path
        self._fd: int | None = fd

    @classmethod
    def take(cls, out: str | Path, command: str = "") -> FolderLock:
        """Hold `out`, or raise NNBenchError naming the live run that holds it. Logs one line
        to stderr when it takes over the lock of a run that died holding it."""
        path = Path(out) / JOURNAL_DIR / "lock"
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            try:
                holder = _holder_named(fd)
            finally:
                os.close(fd)
            who = f"{holder.named()}: {holder.command}" if holder else "pid unknown"
            raise NNBenchError(
                f"--out {str(out)!r} is in use by another nnbench run ({who})".replace("\n", " "),
                "wait for it to finish, or pass another --out",
            ) from None
        except BaseException:
            os.close(fd)
            raise
        _HELD.add(fd)
        lock = cls(path, fd)
        try:
            _name_holder(fd, command)
        except BaseException:
            lock.release()
            raise
        return lock

    def release(self) -> None:
        """Empty the lock file and let the folder go (again: a no-op)."""
        fd, self._fd = self._fd, None
        if fd is None:
            return
        try:
            os.ftruncate(fd, 0)
            fcntl.flock(fd, fcntl.LOCK_UN)  # whatever copy of the descriptor a child still has
        finally:
            _HELD.discard(fd)
            os.close(fd)


def _read(fd: int) -> bytes:
    return os.pread(fd, 1 << 16, 0)


def _name_holder(fd: int, command: str) -> None:
    """Write this process into the lock it has just taken, after saying whose lock it took
    over, if any: a run that ends cleanly leaves the file empty, so a name left in it is
    that of a run that died holding the folder."""
    if dead := _read(fd):
        previous = Holder.parse(dead)
        who = previous.named() if previous else "a run"
        print(f"taking over the lock of {who}, which is no longer running", file=sys.stderr)
    os.ftruncate(fd, 0)
    os.pwrite(fd, json.dumps(asdict(Holder.of_this_process(command))).encode(), 0)


def _holder_named(fd: int) -> Holder | None:
    """The holder the lock file names, waiting a moment for one that has just taken it and
    not yet written its name."""
    waited_until = time.monotonic() + HOLDER_WAIT_S
    while (holder := Holder.parse(_read(fd))) is None and time.monotonic() < waited_until:
        time.sleep(0.02)
    return holder
