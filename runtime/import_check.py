"""Import new plugin code in a disposable process first: `ImportChecker`.

The editor imports every saved plugin module in its own process. Module-level
code that calls ``os._exit``, aborts, segfaults or never returns would take the
editor with it, so before the editor imports a new generation it asks an
`ImportChecker` to import the same plugins in a child process. What ends or
hangs that child comes back as one line naming the file and what happened::

    importing plugins/bouncy/ball.py ended the check process: exit code 1
    importing plugins/bouncy/ball.py ended the check process: segfault at ball.py:12
    importing plugins/bouncy/ball.py hung the check process: still running after 2 s at ball.py:3

An ordinary exception at import is *not* refused: the editor's own reload
reports it, with its traceback, and keeps its code as for any failed reload.

Speed (save -> new code may grow by 15 ms at most). On POSIX a *fork server*
is started once: a small single-threaded Python process that has already
imported the runtime, and that always holds one forked worker, blocked on the
request pipe. A check costs a round trip and the plugin's own import in that
worker (a few milliseconds; `runtime.bench` measures it). What can be done
ahead is done after the answer, off the critical path: the server compiles
(never runs) the sources it was last asked about, so the next worker inherits
their code objects and compiles only what changed; it forks the next worker,
which touches its copy-on-write pages (a collection) before it waits. Where
there is no ``fork`` (Windows) each check uses a spawned worker started ahead
of time, and the next one is started as soon as it is used (``method="spawn"``).

Who talks to whom (fork server)::

    editor --request--> worker            (the worker reads the server's stdin)
    worker --frames---> editor            (the server's stdout: which plugin, which file)
    worker --the request, faulthandler text--> server (a pipe of its own)
    server --["ended", job, exit status, fault text]--> editor (after the worker is gone)

The worker's ``["done"]`` is the answer when all went well; the server's
``ended`` is what tells how a worker that did not get there ended. Only the
worker runs plugin code, and it only ever serves one request. The
frames are msgpack (never pickle). The worker's faulthandler writes where a
crash or a hang happened; a worker still running `GRACE` seconds past the
budget is killed by the server, and a server that does not answer in time is
killed by the editor and started again.

Nothing started here outlives the editor: the server dies with its parent
(``PR_SET_PDEATHSIG`` on Linux, and it exits when its request pipe closes), a
worker dies with the server (the same, and faulthandler's own deadline).
"""

from __future__ import annotations

import contextlib
import faulthandler
import gc
import importlib.abc
import importlib.machinery
import os
import re
import select
import signal
import struct
import subprocess
import sys
import threading
import time
import types
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import msgpack

from runtime.plugins import PluginHost

#: Seconds an import may run in the check process before it counts as hung.
DEFAULT_BUDGET = 2.0

#: Seconds past the budget before the server kills a worker that faulthandler did not stop.
GRACE = 0.5

#: Seconds the fork server waits after an answer before it prepares the next worker.
AFTER_ANSWER_PAUSE = 0.1

# The folder that holds the `runtime` package: the check process imports it from there.
_SOURCE_ROOT = str(Path(__file__).resolve().parent.parent)

_SIGNAL_NAMES = {
    signal.SIGSEGV: "segfault",
    signal.SIGABRT: "abort",
    signal.SIGFPE: "floating-point exception",
    signal.SIGILL: "illegal instruction",
}
if hasattr(signal, "SIGBUS"):
    _SIGNAL_NAMES[signal.SIGBUS] = "bus error"

# faulthandler's frame lines: '  File "/path/ball.py", line 12 in <module>'.
_FAULT_FRAME = re.compile(r'^\s*File "(?P<file>.*)", line (?P<line>\d+)', re.MULTILINE)


class ImportCheckError(Exception):
    """The check process itself could not be started or does not answer."""


@dataclass
class _Run:
    """What one worker said, and how it ended."""

    job: int = 0
    finished: set[str] = field(default_factory=set)
    plugin: str | None = None
    stack: list[str] = field(default_factory=list)
    base_exception: tuple[str, str, int] | None = None  # what, file, line
    done: bool = False
    exit_code: int | None = None  # negative: the signal that ended it
    fault: str = ""
    timed_out: bool = False
    ended: bool = False

    def take(self, frame: Any) -> None:
        """Apply one frame of the worker (or of the fork server) to what is known."""
        kind = frame[0]
        if kind == "plugin":
            self.plugin, self.stack = frame[1], []
        elif kind == "enter":
            self.stack.append(frame[1])
        elif kind == "leave":
            if self.stack and self.stack[-1] == frame[1]:
                self.stack.pop()
        elif kind == "finished":
            self.finished.add(frame[1])
            self.plugin = None
        elif kind == "base_exception":
            self.base_exception = (frame[1], frame[2], frame[3])
        elif kind == "done":
            self.done = True
        elif kind == "ended" and frame[1] == self.job:
            # (An "ended" of an earlier job, whose "done" was answer enough, is skipped.)
            self.exit_code, self.fault, self.timed_out = frame[2], frame[3], bool(frame[4])
            self.ended = True


class ImportChecker:
    """Imports new plugin code in a disposable child process before the editor does.

    Use as a context manager or call `close`; pass `check` to
    `runtime.Game.set_import_check` (or to the ``import_check`` argument of `Game`).
    The process starts in the background: the first check waits for it.

    Args:
        budget: seconds an import may take before it counts as hung.
        method: ``"fork"`` (a fork server; POSIX) or ``"spawn"`` (a fresh
            interpreter per check, started ahead); default: ``"fork"`` where
            the platform has it.

    Raises:
        ImportCheckError: the check process cannot be started.
    """

    def __init__(self, *, budget: float = DEFAULT_BUDGET, method: str | None = None) -> None:
        if method is None:
            method = "fork" if hasattr(os, "fork") else "spawn"
        if method not in ("fork", "spawn"):
            raise ValueError(f"unknown import check method {method!r}")
        if method == "fork" and not hasattr(os, "fork"):
            raise ValueError("this platform cannot fork; use method='spawn'")
        self.budget = budget
        self.method = method
        self._lock = threading.Lock()  # one check at a time: one worker, one pipe
        self._process: subprocess.Popen[bytes] | None = None
        self._unpacker = msgpack.Unpacker(raw=False)
        self._worker: int | None = None
        self._jobs = 0
        self._closed = False
        self._start()

    def __enter__(self) -> ImportChecker:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def pid(self) -> int | None:
        """The process id of the fork server (``spawn``: of the waiting worker)."""
        return None if self._process is None else self._process.pid

    def wait_until_ready(self, timeout: float = 10.0) -> int:
        """Wait until a worker waits for a request (the process starts in the background).

        With ``spawn`` this is a plain blocking read: a spawned worker says it is
        ready first thing, or dies, which ends the read too.

        Args:
            timeout: seconds to wait for the fork server's worker.

        Returns:
            The worker's process id.

        Raises:
            ImportCheckError: no worker is ready in time, or the process ended.
        """
        with self._lock:
            if self._process is None:
                self._start()
            deadline = time.monotonic() + timeout
            while self._worker is None:
                if self.method == "fork":
                    self._read(_Run(), deadline)
                    continue
                # A spawned worker says "ready" first thing, or dies (EOF): a plain read.
                assert self._process is not None and self._process.stdout is not None
                data = os.read(self._process.stdout.fileno(), 65536)
                if not data:
                    raise ImportCheckError("the import check process ended")
                self._feed(data, _Run())
            return self._worker

    def check(self, plugins_dir: str | os.PathLike[str], names: Iterable[str]) -> dict[str, str]:
        """Import the named plugins from `plugins_dir` in the check process.

        Each plugin is imported as `runtime.plugins.PluginHost.import_aside`
        would import it in the editor. When one ends or hangs the check process,
        the others are checked again in a fresh worker.

        Args:
            plugins_dir: the project's ``plugins/`` folder.
            names: the plugin packages to import.

        Returns:
            One line per plugin whose import would end or hang this process, by
            plugin name; empty when all of them can be imported here.
        """
        root = Path(plugins_dir).resolve()
        todo = sorted(set(names))
        refused: dict[str, str] = {}
        with self._lock:
            if self._closed:
                raise ImportCheckError("the import checker is closed")
            while todo:
                try:
                    run = self._run_once(root, todo)
                except ImportCheckError as exc:
                    # What kills or wedges the server itself is refused as well: the
                    # editor must not import what the check could not get through.
                    for name in todo:
                        refused[name] = f"importing plugin {name} was not checked: {exc}"
                    break
                if run.done:
                    break
                culprit = run.plugin or next((n for n in todo if n not in run.finished), None)
                if culprit is None:
                    break  # it ended after the last plugin was imported
                refused[culprit] = _describe(run, root, culprit, self.budget)
                todo = [n for n in todo if n not in run.finished and n != culprit]
        return refused

    def close(self) -> None:
        """Stop the check process (its worker goes with it)."""
        with self._lock:
            self._closed = True
            self._stop()

    # --- the child process ------------------------------------------------------------------

    def _start(self) -> None:
        code = (
            f"import sys; sys.path.insert(0, {_SOURCE_ROOT!r}); "
            "from runtime.import_check import child_main; child_main()"
        )
        args = [sys.executable, "-c", code, self.method, str(os.getpid())]
        try:
            self._process = subprocess.Popen(
                args,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                # The fork server's own errors go to the editor's terminal; a spawned
                # worker's stderr carries its faulthandler text.
                stderr=subprocess.PIPE if self.method == "spawn" else None,
                close_fds=True,
            )
        except OSError as exc:
            raise ImportCheckError(f"cannot start the import check process: {exc}") from exc
        self._unpacker = msgpack.Unpacker(raw=False)
        self._worker = None

    def _stop(self) -> None:
        proc, self._process = self._process, None
        self._worker = None
        if proc is None:
            return
        for stream in (proc.stdin, proc.stdout, proc.stderr):
            if stream is not None:
                with contextlib.suppress(OSError):
                    stream.close()
        try:
            proc.wait(timeout=1.0)  # its request pipe closed: it exits by itself
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()

    def _run_once(self, root: Path, names: list[str]) -> _Run:
        """One worker imports `names`; a server that does not answer is replaced (once)."""
        for attempt in (1, 2):
            if self._process is None or self._process.poll() is not None:
                self._stop()
                self._start()
            try:
                return self._exchange(root, names)
            except ImportCheckError:
                self._stop()
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def _exchange(self, root: Path, names: list[str]) -> _Run:
        proc = self._process
        assert proc is not None and proc.stdin is not None
        self._jobs += 1
        request = msgpack.packb(
            {"job": self._jobs, "plugins_dir": str(root), "names": names, "budget": self.budget}
        )
        # The server ends a hung worker after budget + GRACE; give it a little more
        # (and a spawned worker its start-up, when it was not ready yet).
        patience = self.budget + GRACE + 2.0
        if self.method == "spawn":
            return self._exchange_spawned(proc, request, patience)
        try:
            proc.stdin.write(request)
            proc.stdin.flush()
        except OSError as exc:
            raise ImportCheckError(f"the import check process is gone: {exc}") from exc
        run = _Run(job=self._jobs)
        deadline = time.monotonic() + patience
        # The worker's "done" is the answer: the server's "ended" comes after the
        # worker has exited, a scheduling round later, and is only needed otherwise.
        while not (run.ended or run.done):
            self._read(run, deadline)
        self._worker = None  # the next one says when it is ready
        return run

    def _read(self, run: _Run, deadline: float) -> None:
        """Read what the fork server sent into `run`, waiting until `deadline` at most.

        Raises:
            ImportCheckError: nothing came in time, or the server is gone.
        """
        proc = self._process
        assert proc is not None and proc.stdout is not None
        fd = proc.stdout.fileno()
        ready, _, _ = select.select([fd], [], [], max(0.0, deadline - time.monotonic()))
        if not ready:
            raise ImportCheckError("the import check process does not answer")
        data = os.read(fd, 65536)
        if not data:
            raise ImportCheckError("the import check process ended")
        self._feed(data, run)

    def _feed(self, data: bytes, run: _Run) -> None:
        self._unpacker.feed(data)
        for frame in self._unpacker:
            if frame[0] == "ready":
                self._worker = frame[1]
            else:
                run.take(frame)

    def _exchange_spawned(
        self, proc: subprocess.Popen[bytes], request: bytes, patience: float
    ) -> _Run:
        """A spawned worker serves one request and exits: how it ended; start the next one.

        `communicate` reads stdout and stderr together, with threads where the
        platform cannot `select` on pipes (Windows).
        """
        run = _Run()
        try:
            out, err = proc.communicate(request, timeout=patience)
        except subprocess.TimeoutExpired:
            proc.kill()
            out, err = proc.communicate()
            run.timed_out = True
        self._feed(out, run)
        fault = err[-65536:].decode("utf-8", "replace")
        run.exit_code, run.fault = proc.returncode, fault
        run.timed_out = run.timed_out or fault.lstrip().startswith("Timeout (")
        self._stop()
        self._start()
        return run


def _describe(run: _Run, root: Path, plugin: str, budget: float) -> str:
    """The one line of a refused plugin: which file, and what happened to the check process."""
    importing = run.stack[-1] if run.stack else None
    subject = _display(importing, root) if importing else f"plugin {plugin}"
    if run.base_exception is not None:
        what, file, line = run.base_exception
        at = f" at {_location(file, line, root, importing)}" if file else ""
        return f"importing {subject} ended the check process: {what}{at}"
    where = _fault_location(run.fault, root, importing)
    at = f" at {where}" if where else ""
    if run.timed_out:
        return f"importing {subject} hung the check process: still running after {budget:g} s{at}"
    code = run.exit_code
    if code is not None and code < 0:
        try:
            sig = signal.Signals(-code)
        except ValueError:
            what = f"signal {-code}"
        else:
            what = _SIGNAL_NAMES.get(sig, f"killed by {sig.name}")
        return f"importing {subject} ended the check process: {what}{at}"
    # Windows reports a crash as an exit code; faulthandler names it.
    crash = re.search(r"^Windows fatal exception: (.+)$", run.fault, re.MULTILINE)
    if crash:
        return f"importing {subject} ended the check process: {crash[1].strip()}{at}"
    return f"importing {subject} ended the check process: exit code {code}"


def _display(path: str, root: Path) -> str:
    """``plugins/bouncy/ball.py``: a plugin file as the project shows it."""
    try:
        return (Path(root.name) / Path(path).resolve().relative_to(root)).as_posix()
    except ValueError:
        return path


def _fault_location(fault: str, root: Path, importing: str | None) -> str:
    """``ball.py:12``: the innermost plugin frame of faulthandler's text ('' when none)."""
    for match in _FAULT_FRAME.finditer(fault):  # most recent call first
        if _is_under(match["file"], root):
            return _location(match["file"], int(match["line"]), root, importing)
    return ""


def _location(file: str, line: int, root: Path, importing: str | None) -> str:
    """``ball.py:12`` in the file being imported, else ``plugins/bouncy/util.py:3``."""
    same = importing is not None and Path(file).resolve() == Path(importing).resolve()
    return f"{Path(file).name if same else _display(file, root)}:{line}"


# --- the child side: fork server and worker ---------------------------------------------------


def child_main() -> None:
    """Entry point of the check process: ``fork`` server or ``spawn`` worker (argv[1])."""
    method, parent = sys.argv[1], int(sys.argv[2])
    _die_with_parent(parent)
    # Plugin code must not write into the channel, nor read the requests: keep the
    # pipes on private descriptors, and give fds 0 and 1 (and a worker's 2) to /dev/null.
    requests, frames, fault = os.dup(0), os.dup(1), os.dup(2)
    null = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1):
        os.dup2(null, fd)
    sys.stdin = open(os.devnull)  # noqa: SIM115 (lives as long as the process)
    sys.stdout = open(os.devnull, "w")  # noqa: SIM115
    # Importing this module imported the `runtime` package: every worker forked from
    # here has what plugin code imports first already loaded.

    if method == "fork":
        os.close(fault)  # the server's stderr stays the editor's, for its own errors
        _serve_forks(requests, frames, null)
    else:
        os.dup2(null, 2)
        sys.stderr = open(os.devnull, "w")  # noqa: SIM115
        _work(requests, frames, status=None, fault=fault)


def _die_with_parent(parent: int) -> None:
    """Have the kernel kill this process when its parent dies (Linux); exit if it already has.

    Linux sends the signal when the *thread* that started this process ends: the
    checker starts (and restarts) its server on the thread that checks, the
    editor's GUI thread, which lives as long as the editor.
    """
    if sys.platform.startswith("linux"):
        import ctypes

        pr_set_pdeathsig = 1
        with contextlib.suppress(Exception):
            ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGKILL)
    if os.getppid() != parent:
        os._exit(0)


def _serve_forks(requests: int, frames: int, null: int) -> None:
    """The fork server: keep one worker forked and waiting; report how each one ended."""
    server = os.getpid()
    # One PluginHost per project, never importing anything here: its compiler cache is
    # what a forked worker inherits, so a check compiles only the files that changed.
    hosts: dict[str, PluginHost] = {}
    while True:
        status_r, status_w = os.pipe()
        pid = os.fork()
        if pid == 0:
            os.close(status_r)
            _die_with_parent(server)
            os.dup2(null, 2)
            sys.stderr = open(os.devnull, "w")  # noqa: SIM115 (lives as long as the worker)
            _work(requests, frames, status=status_w, fault=status_w, hosts=hosts)
        os.close(status_w)
        supervised = _supervise(pid, status_r)
        os.close(status_r)
        if supervised is None:
            os._exit(0)  # the worker saw the request pipe close: the editor is gone
        request, ended = supervised
        try:
            _write(frames, ["ended", request["job"], *ended])
        except OSError:
            os._exit(0)  # the editor closed the channel after the worker's "done"
        # The editor's own reload runs right after the answer: let it have the CPU.
        # On one core, preparing the next worker at once made that reload (build to
        # commit, 1,000 entities) about 15 ms slower; after the pause it cost nothing.
        time.sleep(AFTER_ANSWER_PAUSE)
        _compile_ahead(hosts, request)  # after the answer: off the editor's waiting time


def _compile_ahead(hosts: dict[str, PluginHost], request: Mapping[str, Any]) -> None:
    """Compile (never run) the sources of the plugins just checked, for the next worker.

    Compiling runs no plugin code; a file that does not compile is left to the
    worker, which reports it as the editor's own build step would.
    """
    root = str(request["plugins_dir"])
    host = hosts.get(root)
    if host is None:
        host = hosts[root] = PluginHost(root)
    for name in request["names"]:
        for module, path in host.source_files(name):
            with contextlib.suppress(Exception):
                host.compiler.compile(path, module)


def _supervise(pid: int, status_r: int) -> tuple[Mapping[str, Any], tuple[int, str, bool]] | None:
    """Wait for a worker to end, killing it `GRACE` seconds past its budget.

    Returns:
        ``None`` when it took no request (the editor is gone), else the request
        and (exit code, faulthandler text, whether it hung).
    """
    header = _read_exact(status_r, 5)
    size = struct.unpack("<I", header[1:])[0] if len(header) == 5 else 0
    request = _unpack(_read_exact(status_r, size)) if size else None
    if request is None:
        os.waitpid(pid, 0)
        return None
    deadline = time.monotonic() + float(request["budget"]) + GRACE
    fault = bytearray()
    killed = False
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            os.kill(pid, signal.SIGKILL)
            killed = True
            break
        ready, _, _ = select.select([status_r], [], [], left)
        if ready:
            data = os.read(status_r, 65536)
            if not data:
                break  # its end of the pipe closed: the worker is gone
            fault += data[-65536:]
    _, status = os.waitpid(pid, 0)
    text = fault.decode("utf-8", "replace")
    hung = killed or text.lstrip().startswith("Timeout (")
    return request, (os.waitstatus_to_exitcode(status), text, hung)


def _work(
    requests: int,
    frames: int,
    status: int | None,
    fault: int,
    hosts: Mapping[str, PluginHost] | None = None,
) -> None:
    """The worker: read one request, import its plugins, say how far it got, exit.

    It never returns: a forked worker that did would run on as a second server.

    Args:
        requests: where the request comes from.
        frames: where what happens goes (msgpack frames, to the editor).
        status: the fork server's pipe: the request, when it came.
        fault: where faulthandler writes (the status pipe, or the editor's).
        hosts: the fork server's plugin hosts, by plugins folder (their compilers
            hold the sources compiled ahead).
    """
    try:
        # A forked worker shares the server's memory until it writes to it. Collect now,
        # while waiting: that touches (and so copies) most object pages ahead of the
        # request, which then runs about twice as fast (measured: 5 ms -> 2 ms).
        gc.collect()
        gc.disable()  # a worker lives for one request: no collections while it runs
        _write(frames, ["ready", os.getpid()])
        blob = _read_request(requests)
        request = _unpack(blob) if blob is not None else None
        if blob is None or request is None:
            return  # the editor closed the pipe: the server sees no request and ends
        if status is not None:
            _write_bytes(status, b"R" + struct.pack("<I", len(blob)) + blob)
        budget = float(request["budget"])
        faulthandler.enable(file=fault, all_threads=True)
        # Write where it is and exit when the import runs past the budget.
        faulthandler.dump_traceback_later(budget, exit=True, file=fault)
        root = Path(request["plugins_dir"])
        host = (hosts or {}).get(str(root)) or PluginHost(root)
        _import_plugins(host, request["names"], frames)
    finally:
        # Never run the plugin's atexit functions or wait for its threads.
        os._exit(0)


def _import_plugins(host: PluginHost, names: Sequence[str], frames: int) -> None:
    sys.meta_path.insert(0, _ReportingFinder(host.namespace, frames))
    for name in names:
        _write(frames, ["plugin", name])
        try:
            host.import_aside([name])
        except Exception:  # the editor's own reload reports it, with its traceback
            pass
        except BaseException as exc:
            _write(frames, _base_exception_frame(exc, host.plugins_dir))
            return
        _write(frames, ["finished", name])
    _write(frames, ["done"])


def _base_exception_frame(exc: BaseException, root: Path) -> list[Any]:
    """``["base_exception", "SystemExit(3)", file, line]``: what plugin code raised, and where.

    For what is not an `Exception` (the editor's reload would not catch it); the
    file and line are those of the innermost frame of plugin code ("" and 0: none).
    """
    args = ", ".join(repr(a) for a in exc.args)
    what = f"{type(exc).__name__}({args})" if exc.args else type(exc).__name__
    tb, file, line = exc.__traceback__, "", 0
    while tb is not None:
        name = tb.tb_frame.f_code.co_filename
        if _is_under(name, root):
            file, line = name, tb.tb_lineno
        tb = tb.tb_next
    return ["base_exception", what, file, line]


def _is_under(path: str, root: Path) -> bool:
    try:
        Path(path).resolve().relative_to(root)
    except (ValueError, OSError):
        return False
    return True


class _ReportingFinder(importlib.abc.MetaPathFinder):
    """Finds plugin modules with the finders behind it and reports each module's execution."""

    def __init__(self, namespace: str, frames: int) -> None:
        self.prefix = namespace + "."
        self.frames = frames

    def find_spec(
        self,
        fullname: str,
        path: Sequence[str] | None,
        target: types.ModuleType | None = None,
    ) -> importlib.machinery.ModuleSpec | None:
        if not fullname.startswith(self.prefix):
            return None
        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(fullname, path, target)
            if spec is not None:
                if spec.loader is not None and spec.origin:
                    spec.loader = _ReportingLoader(spec.loader, spec.origin, self.frames)
                return spec
        return None


class _ReportingLoader(importlib.abc.Loader):
    """Tells the editor which file runs, so that a process that dies in it can be named."""

    def __init__(self, inner: Any, origin: str, frames: int) -> None:
        self.inner = inner
        self.origin = origin
        self.frames = frames

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> types.ModuleType | None:
        module: types.ModuleType | None = self.inner.create_module(spec)
        return module

    def exec_module(self, module: types.ModuleType) -> None:
        _write(self.frames, ["enter", self.origin])
        self.inner.exec_module(module)
        _write(self.frames, ["leave", self.origin])

    def __getattr__(self, name: str) -> Any:
        # get_source, get_code, ... for tracebacks and linecache.
        return getattr(self.inner, name)


def _write(fd: int, frame: Sequence[Any]) -> None:
    _write_bytes(fd, msgpack.packb(list(frame)))


def _write_bytes(fd: int, data: bytes) -> None:
    while data:
        data = data[os.write(fd, data) :]


def _read_exact(fd: int, n: int) -> bytes:
    out = b""
    while len(out) < n:
        data = os.read(fd, n - len(out))
        if not data:
            break
        out += data
    return out


def _read_request(fd: int) -> bytes | None:
    """The bytes of one msgpack request from `fd` (``None``: the pipe closed first)."""
    unpacker = msgpack.Unpacker(raw=False)
    data = b""
    while True:
        chunk = os.read(fd, 65536)
        if not chunk:
            return None
        data += chunk
        unpacker.feed(chunk)
        for _ in unpacker:
            # Only one request is ever in the pipe: the editor waits for its answer.
            return data


def _unpack(blob: bytes) -> Mapping[str, Any] | None:
    try:
        obj = msgpack.unpackb(blob, raw=False)
    except ValueError:
        return None
    return obj if isinstance(obj, dict) else None
