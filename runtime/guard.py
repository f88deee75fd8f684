"""`CallGuard`: the one place the engine calls game code through.

Game code is untrusted (docs/writing-game-code.md, "Time budgets, and quitting
the game"; docs/troubleshooting.md explains the messages): it is
often unfinished, so it raises, loops forever or calls ``sys.exit``. Every call
the engine makes into it (`runtime.game.Game` hooks, timers, messages, and the
reload transaction up to its commit) goes through a `CallGuard`, which

- times the call against a budget (default 2 s, ``[budget] seconds`` in
  ``hotplay.toml``) and interrupts it when it runs past;
- catches every `BaseException`: ``SystemExit``, ``GeneratorExit`` and a
  ``KeyboardInterrupt`` that did not come from the terminal's Ctrl+C are the
  game code's errors, not the end of the process;
- hands the error back to the caller, which pauses the culprit.

How a call is interrupted: a monitor thread watches the call the game thread
is in; past the budget it raises `BudgetInterrupt` in the game thread with
``PyThreadState_SetAsyncExc``. That exception is delivered between two
bytecodes of the game thread, which covers any loop written in Python
(``while True: pass``), but not a single blocking C call: ``time.sleep(60)``,
a blocking socket read, ``input()`` or one huge C-level computation
(``sum(range(10**12))``) is interrupted only when that call returns to Python.
Game code that catches `BaseException` and loops on is interrupted again every
`REFIRE_SECONDS` until it lets go.

The monitor only ever raises into a call it watches, and only when it sees
the game thread in a frame of plugin code: game code calls into the engine
(``ctx.spawn``) and, in the editor, the engine into views and Qt, and none of
that may be cut half-way through a change. A loop that spends its time in
engine calls is stopped at the next one that is a `CallGuard.checkpoint`
(``ctx.spawn``), before it changes anything. The game thread stops the watch
before it goes back to engine code, and a stop that races with the monitor
withdraws an exception not yet delivered (see `CallGuard._stop`). Engine work
that is slow by itself is never interrupted.

The watch of the ``on_update`` loop moves from script to script without a
call per script (`CallGuard.watch_loop`); the monitor re-checks that the loop
is still at the script it timed before it raises, which leaves a window of a
few bytecodes in which a script that overran by a hair could see the
interrupt land in the next one. A hook that game code triggers from inside
another (``on_init`` of an entity spawned in ``on_update``) runs under the
outer call's watch; interrupted, it is the one paused, and the outer call
gets a fresh budget.

The cyclic garbage collector's long walks wait while game code runs: a full
collection walks every object of the scene (a fifth of a second at 60,000
entities on a slow machine), and set off by whatever allocation comes next
it would land in a call that did little itself, which would then be paused
for it. While a frame runs, or a call is watched, under a budget, the
thresholds of the two older generations are raised out of reach
(`hold_collections`); the youngest is still collected as usual (a short walk
of what was made lately). When the frame or call ends the thresholds come
back, and an older generation that fell due meanwhile is collected then,
between frames (or calls), by the collector's own rules: in no budget, and
so are the finalizers (``__del__``) it runs. Game code that calls
``gc.collect()`` itself is timed for it; it sees the raised thresholds in
``gc.get_threshold()``, and one it sets stays. No Python code runs inside a
collection for this (a ``gc.callbacks`` function would be where a pending
interrupt or the user's Ctrl+C is delivered, and lost). One holder at a
time: the engine runs game code on one thread.
"""

from __future__ import annotations

import ctypes
import gc
import logging
import os
import signal
import sys
import threading
import time
from collections.abc import Callable
from types import FrameType, TracebackType
from typing import Any

from runtime.scripting import NAMESPACE_PREFIX

#: The budget when the project does not set one, in seconds.
DEFAULT_BUDGET = 2.0

#: How often game code that swallowed the interrupt is interrupted again.
REFIRE_SECONDS = 0.25

#: The older generations' thresholds while a frame or a watched call runs: out of reach.
HELD_THRESHOLD = 2**31 - 1


class BudgetInterrupt(BaseException):
    """Raised inside game code by the budget monitor; never raised by game code itself.

    A `BaseException`, so that game code's ``except Exception`` does not swallow it.
    """


class GameCodeError(Exception):
    """Game code ran past its budget or tried to end the process.

    `str()` says which; the traceback (and ``__cause__``) show where.
    """


class BudgetExceeded(GameCodeError):
    """A call into game code ran past its budget and was interrupted."""


class GameExit(GameCodeError):
    """Game code raised ``SystemExit``, ``KeyboardInterrupt`` or ``GeneratorExit``.

    Attributes:
        code: the ``SystemExit`` code (``None`` for the other two).
    """

    def __init__(self, message: str, code: object = None) -> None:
        super().__init__(message)
        self.code = code


# --- Ctrl+C in the terminal ---------------------------------------------------------------

_user_interrupt = threading.Event()


def _on_sigint(signum: int, frame: FrameType | None) -> None:
    # Remember that this KeyboardInterrupt is the user's: game code raising one
    # itself is only that code's error.
    _user_interrupt.set()
    raise KeyboardInterrupt


def install_interrupt_flag() -> None:
    """Tell a Ctrl+C in the terminal apart from game code raising ``KeyboardInterrupt``.

    Replaces Python's default SIGINT handler (only that one: a handler someone
    installed on purpose is left alone) by one that also sets a flag. Call it
    on the main thread; elsewhere it does nothing.
    """
    if threading.current_thread() is not threading.main_thread():
        return
    if signal.getsignal(signal.SIGINT) is signal.default_int_handler:
        signal.signal(signal.SIGINT, _on_sigint)


def is_user_interrupt(exc: BaseException) -> bool:
    """Whether `exc` is the user's Ctrl+C (then it must end the program, not a script)."""
    return isinstance(exc, KeyboardInterrupt) and _user_interrupt.is_set()


# --- the guard ------------------------------------------------------------------------------


class _Call:
    """The watched call the game thread is in."""

    __slots__ = (
        "fired_at",
        "fired_step",
        "held",
        "seen_step",
        "since",
        "step",
        "thread",
        "where",
    )

    def __init__(self, thread: int, started: float) -> None:
        self.thread = thread
        #: Set by a loop over many calls (`CallGuard.watch_loop`) to a new object before each
        #: call: the budget is per step. Steps are told apart by identity, never by ``==``,
        #: which could run game code (a script's ``__eq__``) on the monitor's thread.
        self.step: object = 0
        self.seen_step: object = 0
        #: When the monitor first saw the current step.
        self.since = started
        self.fired_at = 0.0
        #: The step the interrupt was raised for (``0``: none yet).
        self.fired_step: object = 0
        self.where = ""
        #: Whether this call holds the collector (`hold_collections`).
        self.held = False


def is_game_code(frame: FrameType) -> bool:
    """Whether `frame` runs code of a plugin module (by module name, as `describe_error` does)."""
    module = frame.f_globals.get("__name__", "")
    return isinstance(module, str) and module.startswith(NAMESPACE_PREFIX)


def where_in_game_code(frame: FrameType | None) -> str:
    """``file:line`` of the innermost frame of plugin code (or of the innermost frame)."""
    innermost = ""
    while frame is not None:
        here = f"{frame.f_code.co_filename}:{frame.f_lineno}"
        innermost = innermost or here
        if is_game_code(frame):
            return here
        frame = frame.f_back
    return innermost


class CallGuard:
    """Runs game code under a time budget and turns whatever it raises into a returned error.

    Args:
        budget: seconds a call (and a frame) may take; ``None`` or ``0`` turns budgets off
            (calls are still guarded against exits).
        clock: the monotonic clock, in seconds.
    """

    def __init__(
        self,
        budget: float | None = DEFAULT_BUDGET,
        *,
        clock: Callable[[], float] = time.perf_counter,
    ) -> None:
        self.clock = clock
        self._budget: float | None = None
        self._call: _Call | None = None
        self._fired: _Call | None = None
        self._lock = threading.Lock()
        self._monitor: threading.Thread | None = None
        self._closed = threading.Event()
        self._frame_started: float | None = None
        self._lost = 0.0  # seconds of the frame spent in calls that were interrupted
        #: Set by the monitor when the frame in progress has run past the budget.
        self.frame_over = False
        #: (call, step) the monitor found past the budget (see `checkpoint`), or ``None``.
        self.overdue: tuple[_Call, object] | None = None
        self.budget = budget
        install_interrupt_flag()

    # --- settings ----------------------------------------------------------------------

    @property
    def budget(self) -> float | None:
        """Seconds a call or a frame may take; ``None`` when budgets are off."""
        return self._budget

    @budget.setter
    def budget(self, seconds: float | None) -> None:
        self._budget = seconds if seconds else None
        if self._budget is not None and self._monitor is None and not self._closed.is_set():
            self._monitor = threading.Thread(
                target=self._watch, name="hotplay-budget-monitor", daemon=True
            )
            self._monitor.start()

    def close(self) -> None:
        """Stop the monitor thread (the guard then only catches, it no longer interrupts)."""
        self._closed.set()
        if self._monitor is not None:
            self._monitor.join(timeout=1.0)
            self._monitor = None

    # --- calls --------------------------------------------------------------------------

    def call(self, fn: Callable[..., Any], *args: Any) -> BaseException | None:
        """Call ``fn(*args)`` under the budget; return what it raised, or ``None``.

        What comes back is the game code's error: its own exception, a
        `BudgetExceeded` (interrupted past the budget) or a `GameExit`. The
        user's Ctrl+C is raised, not returned. Inside another watched call
        (``on_init`` of an entity that ``on_update`` spawns) the outer watch
        times it, and an interrupt that lands in it is its error.
        """
        if self._call is not None:
            return self._nested(fn, args)
        call: _Call | None = None
        raised: BaseException | None = None
        try:
            call = self._start()
            try:
                fn(*args)
            except BaseException as exc:
                raised = exc
            self._stop(call)
        except BudgetInterrupt as late:  # delivered just as the call returned
            self._stop(call)
            raised = late
        if raised is None and call is not None and call.fired_at:
            raised = BudgetInterrupt()  # interrupted, swallowed it, and returned
        return self.game_error(raised, call) if raised is not None else None

    def call_method(self, obj: Any, name: str, *args: Any) -> BaseException | None:
        """`call` of ``obj.<name>(*args)`` (looking the method up counts as game code too)."""
        return self.call(_call_method, obj, name, args)

    def _nested(self, fn: Callable[..., Any], args: tuple[Any, ...]) -> BaseException | None:
        outer = self._call
        try:
            fn(*args)
        except BudgetInterrupt as exc:
            if outer is None or outer is not self._call:
                raise
            # The monitor raises only in plugin code, so this one landed in the inner hook
            # (on_init of an entity spawned in on_update): that hook is the culprit, and its
            # caller goes on with a fresh budget.
            now = self.clock()
            self._lost += now - outer.since
            outer.since, outer.fired_at, outer.where = now, 0.0, ""
            self.overdue = None
            return self.game_error(exc, None)
        except BaseException as exc:
            return self.game_error(exc, None)
        return None

    def watch_loop(self) -> _Call:
        """Start watching a loop of many short calls (every script's ``on_update``).

        Set ``.step`` of what this returns before each call, to an object of that
        call's own (the loop's entry: steps are compared by identity): the budget
        applies to each step, without the cost of `call` per script. Stop with `stop_loop`.
        Inside another watch the outer one applies (what this returns is not watched).
        """
        if self._call is not None:
            return _Call(0, 0.0)  # not watched: the outer watch applies
        return self._start()

    def stop_loop(self, call: _Call) -> None:
        """Stop watching the loop of `watch_loop`; no interrupt arrives after this returns."""
        if call is self._call:
            self._stop(call)

    def watch(self) -> Watch:
        """Start watching a span of engine work that calls game code (a reload transaction).

        End it with `Watch.end` before the engine's own steps that must not be
        interrupted; `Watch.failure` turns what the span raised into an `Exception`.
        """
        return Watch(self, None if self._call is not None else self._start())

    def game_error(self, exc: BaseException, call: _Call | None) -> BaseException:
        """What game code raising `exc` means: the error to report, or raises the user's Ctrl+C.

        Raises:
            KeyboardInterrupt: `exc` is the user's Ctrl+C (the flag is cleared).
        """
        if isinstance(exc, BudgetInterrupt):
            where = call.where if call is not None else ""
            budget = f"{self._budget:g} s" if self._budget else "its budget"
            message = f"ran for longer than {budget} (the budget for game code) and was interrupted"
            if where and not _passes_game_code(exc.__traceback__):
                message += f" at {where}"  # its traceback cannot say where (it was swallowed)
            error: GameCodeError = BudgetExceeded(message)
        elif is_user_interrupt(exc):
            _user_interrupt.clear()
            raise exc
        elif isinstance(exc, SystemExit):
            error = GameExit(
                f"sys.exit({exc.code!r}) in game code (game code quits with ctx.quit())", exc.code
            )
        elif isinstance(exc, KeyboardInterrupt | GeneratorExit):
            error = GameExit(f"{type(exc).__name__} raised by game code")
        else:
            return exc
        error.__cause__ = exc
        return error.with_traceback(exc.__traceback__)

    def checkpoint(self) -> None:
        """Interrupt here when the watched call is past its budget (engine entry points call it).

        The monitor raises only while it sees the game thread in plugin code; a
        loop that spends its time in the engine (``ctx.spawn`` two hundred times,
        each updating the editor's views) is stopped here instead, at the door of
        the engine, before anything changes.

        Raises:
            BudgetInterrupt: the call in progress ran past its budget.
        """
        overdue, call = self.overdue, self._call
        if overdue is None or overdue[0] is not call or call is None or overdue[1] is not call.step:
            return  # not past the budget (or the loop has moved on to the next script)
        if not call.fired_at:
            call.fired_at = self.clock()
            call.fired_step = call.step
            call.where = where_in_game_code(sys._getframe(1))
        raise BudgetInterrupt

    # --- frames -------------------------------------------------------------------------

    def begin_frame(self) -> None:
        """A frame starts: the monitor sets `frame_over` once it runs past the budget.

        Under a budget the collector is held until `end_frame` (see the module's
        docstring): a collection due runs between frames, in no one's budget.
        """
        self.frame_over = False
        self._lost = 0.0
        if self._budget is not None:
            hold_collections(self)
        self._frame_started = self.clock()

    def end_frame(self) -> float:
        """The frame ended; return how long it took, in seconds, without interrupted calls."""
        started, self._frame_started = self._frame_started, None
        took = self.clock() - started - self._lost if started is not None else 0.0
        release_collections(self)
        return took

    @property
    def interrupted_seconds(self) -> float:
        """Seconds the frame in progress (or the last one) spent in calls that were interrupted.

        Not the frame's own time (a frame is not over budget because a script was),
        but time the caller's event loop waited all the same.
        """
        return self._lost

    # --- the watch and the monitor --------------------------------------------------------

    def _start(self) -> _Call:
        call = _Call(threading.get_ident(), 0.0)
        if type(_holder) is _Call:
            # A call's hold outlived it (Ctrl+C landed between the hold and the watch):
            # no call runs on this thread now, so it is no one's.
            release_collections(_holder)
        if self._budget is not None and _holder is None:
            call.held = hold_collections(call)
        call.since = self.clock()  # after the allocations, which may set a collection off
        self.overdue = None
        self._call = call
        return call

    def _stop(self, call: _Call | None) -> None:
        """Stop watching `call`; afterwards no interrupt of it can arrive."""
        # With the monitor's `_fire` this is Dekker's handshake, made safe by the GIL's
        # ordering of plain stores and loads: either the monitor sees the call gone and
        # does not fire, or this side sees `_fired` and withdraws a pending interrupt.
        if call is None:
            return
        try:
            if call.fired_at:
                # The culprit is paused: its time is not the frame's (no "frame over budget").
                # Counted before the call is gone, so the monitor never sees neither.
                self._lost += self.clock() - call.since
            self._call = None
            # After the call is gone: the monitor (`_check`) sets `overdue`, then looks again
            # at whether the call still runs, so a mark it sets meanwhile is withdrawn.
            self.overdue = None
            if self._fired is call:
                with self._lock:
                    # NULL withdraws an asynchronous exception not yet delivered.
                    _set_async_exc(call.thread, None)
                    self._fired = None
        finally:
            # Also when a late interrupt is delivered in here (on the way into the
            # withdrawal): else the collector would stay held for good.
            if call.held:
                release_collections(call)  # and collects an older generation that fell due
                call.held = False

    def _watch(self) -> None:
        while not self._closed.is_set():
            budget = self._budget
            tick = 0.05 if budget is None else max(0.005, min(0.05, budget / 20))
            if self._closed.wait(tick) or budget is None:
                continue
            self._check(budget)

    def _check(self, budget: float) -> None:
        """One look of the monitor at the call in progress.

        A function of its own, so that nothing it saw stays referred to while the
        monitor sleeps: a step is an entry of an update list, holding a script,
        which a reload may have replaced since.
        """
        now = self.clock()
        call = self._call
        frame_started = self._frame_started
        if frame_started is not None:
            # The call in progress answers to its own budget: up to its start, the frame's.
            upto = call.since if call is not None else now
            if upto - frame_started - self._lost > budget:
                self.frame_over = True
        if call is None:
            return
        step = call.step
        if step is not call.seen_step:
            call.seen_step = step
            call.since = now
            return
        if now - call.since <= budget:
            return
        self.overdue = (call, step)
        if self._call is not call:
            self.overdue = None  # stopped meanwhile: `_stop` cleared it before this was set
            return
        if call.fired_at and now - call.fired_at < REFIRE_SECONDS:
            return
        self._fire(call, now)

    def _fire(self, call: _Call, now: float) -> None:
        self._fired = call
        with self._lock:
            if self._call is not call:
                self._fired = None
                return
            if call.step is not call.seen_step:
                self._fired = None  # the loop moved on to the next script meanwhile
                return
            frame = sys._current_frames().get(call.thread)
            if frame is None or not is_game_code(frame):
                # Raised now, it would land in the engine (or the editor, or Qt) that game
                # code called, possibly half-way through changing its state: try again at
                # the next tick, until the game thread is seen in game code itself.
                self._fired = None
                return
            call.where = call.where or where_in_game_code(frame)
            call.fired_at = now
            call.fired_step = call.step
            _set_async_exc(call.thread, BudgetInterrupt)


#: What holds the collector (a watched call, or a guard's frame), and the thresholds
#: of the older generations it gives back (`hold_collections`).
_holder: object | None = None
_held = (0, 0)


def hold_collections(owner: object) -> bool:
    """Keep the collector from walking its older generations until `owner` releases it.

    Raises the second and third thresholds out of reach: the youngest
    generation is still collected (what was made lately: a short walk, and
    cyclic garbage does not pile up), the collections that walk what lives
    on (the whole scene, for the oldest) wait. ``gc.collect()`` still
    collects, ``gc.isenabled()`` is untouched. Returns whether `owner` holds
    the collector now: false when something else holds it already, or the
    thresholds turn automatic collections off.
    """
    global _holder, _held
    if _holder is not None:
        return False
    t0, t1, t2 = gc.get_threshold()
    if not t0:
        return False
    _holder, _held = owner, (t1, t2)
    gc.set_threshold(t0, HELD_THRESHOLD, HELD_THRESHOLD)
    return True


def release_collections(owner: object) -> None:
    """Give the collector its thresholds back, if `owner` holds it (else nothing).

    A threshold game code set meanwhile stays. When an older generation fell
    due while held, it is collected now, by the collector's own rules (which
    of the two, and whether a full collection is worth it): putting the
    thresholds back starts nothing, and the next young collection would most
    likely fall in the next frame, held again. Safe to call again (a late
    interrupt that re-runs the caller): the holder is forgotten last.
    """
    global _holder
    if _holder is not owner:
        return
    t0, t1, t2 = gc.get_threshold()
    if t1 == HELD_THRESHOLD or t2 == HELD_THRESHOLD:
        t1 = _held[0] if t1 == HELD_THRESHOLD else t1
        t2 = _held[1] if t2 == HELD_THRESHOLD else t2
        if t0 and gc.isenabled() and gc.get_count()[1] > t1:
            # The collector looks at its older generations only when a young collection
            # starts on its own: start one now, with a first threshold two allocations
            # reach (an explicit gc.collect would skip its rules for the oldest).
            gc.set_threshold(1, t1, t2)
            _allocate_twice()
        gc.set_threshold(t0, t1, t2)
    _holder = None


class _Tracked:
    """Objects the collector tracks, made without a free list: each one counts."""


def _allocate_twice() -> tuple[_Tracked, _Tracked]:
    return _Tracked(), _Tracked()


class Watch:
    """A watched span of engine work (from `CallGuard.watch`)."""

    def __init__(self, guard: CallGuard, call: _Call | None) -> None:
        self._guard = guard
        self._call: _Call | None = call

    def end(self) -> None:
        """Stop watching: no interrupt arrives after this returns."""
        call, self._call = self._call, None
        self._guard._stop(call)
        if call is not None and call.fired_at:
            # Interrupted, and game code swallowed it: the span still ran too long.
            self._call = call
            raise BudgetInterrupt

    def failure(self, exc: BaseException) -> Exception:
        """End the watch; the `Exception` that `exc`, raised in the span, stands for.

        Raises:
            KeyboardInterrupt: `exc` is the user's Ctrl+C.
            BaseException: `exc` itself when it is not game code's doing.
        """
        call, self._call = self._call, None
        self._guard._stop(call)
        error = self._guard.game_error(exc, call)
        if isinstance(error, Exception):
            return error
        raise exc


def _passes_game_code(tb: TracebackType | None) -> bool:
    while tb is not None:
        if is_game_code(tb.tb_frame):
            return True
        tb = tb.tb_next
    return False


def _call_method(obj: Any, name: str, args: tuple[Any, ...]) -> None:
    getattr(obj, name)(*args)


def _set_async_exc(thread: int, exc: type[BaseException] | None) -> None:
    # ``None`` goes to C as NULL, which withdraws a pending exception.
    arg = ctypes.py_object(exc) if exc is not None else None
    ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(thread), arg)


# --- threads game code leaves behind --------------------------------------------------------


def stray_threads(before: set[threading.Thread]) -> list[threading.Thread]:
    """Non-daemon threads alive now that were not in `before` (started by game code)."""
    return [
        t
        for t in threading.enumerate()
        if t not in before and not t.daemon and t is not threading.main_thread() and t.is_alive()
    ]


def exit_past_stray_threads(before: set[threading.Thread], code: int) -> None:
    """End the process now when game code left non-daemon threads running.

    Python waits for every non-daemon thread before it exits, so a thread a
    plugin started and never stopped would keep the closed game alive for
    good. Each is named in a warning on stderr; then the process exits with
    `code` without waiting for them. Does nothing when there are none.

    Args:
        before: the threads that were running before game code could start any.
        code: the exit code.
    """
    strays = stray_threads(before)
    if not strays:
        return
    for t in strays:
        print(
            f"hotplay: warning: thread {t.name!r} started by game code is still running; "
            "exiting without waiting for it",
            file=sys.stderr,
        )
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
