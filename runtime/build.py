"""The Build step: compile every plugin source for a profile, report every error.

Play runs it first and the editor's Build button runs it alone::

    from runtime.build import build_project
    from runtime import BuildProfile

    result = build_project("path/to/project", BuildProfile.RELEASE)
    for line in result.lines():      # the build log, one ``file:line:col: ...`` per problem
        print(line)
    if not result.ok:
        first = result.errors[0]     # where to point the user: first.path, first.line

Every source under each plugin package is compiled (through the same
`runtime.plugins.SourceCompiler` the game imports with), and a broken file does
not stop the others: the result lists one error per broken file, all of them.
CPython's parser stops at the first syntax error *within* a file, so a second
error in the same file shows up once the first is fixed.

``Release`` also writes the optimized (``-O``) bytecode of every module to
``<project>/build/release/plugins/`` (mirroring ``plugins/``) with a
``manifest.json``; the release player (``python -O -m runtime play --profile
release``) imports plugins from there (`runtime.bytecode.load_bytecode`) and never compiles a
source. The previous output is replaced only by a successful build.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import logging
import os
import shutil
import sys
import tempfile
import time
import types
import warnings
from dataclasses import dataclass, field
from pathlib import Path

from runtime.bytecode import pyc_bytes
from runtime.plugins import PluginHost, plugin_sources
from runtime.profiles import BuildProfile
from runtime.project import Project

#: Version of the build output layout (``manifest.json`` ``format``).
BUILD_FORMAT = 1
MANIFEST = "manifest.json"
#: Optimization level of Release bytecode: what ``python -O`` uses.
RELEASE_OPTIMIZE = 1


@dataclass(frozen=True, slots=True)
class BuildMessage:
    """One problem found by the build, located in a source file.

    `str()` is ``path:line:col: error: message``, the form editors and the log
    panel turn into a link; a problem with no line (the output cannot be
    written) is ``path: error: message``.
    """

    path: str
    line: int
    column: int
    message: str
    severity: str = "error"
    source_line: str = ""

    def __str__(self) -> str:
        if self.line <= 0:
            return f"{self.path}: {self.severity}: {self.message}"
        return f"{self.path}:{self.line}:{self.column}: {self.severity}: {self.message}"


@dataclass(frozen=True)
class BuildResult:
    """What a build compiled, what it found and where it wrote.

    Attributes:
        project: the project root.
        profile: the profile built for.
        errors: every error, in file order (the build failed if there is one).
        warnings: compiler warnings (``SyntaxWarning``...) and skipped folders.
        files: how many source files were compiled.
        plugins: the plugin packages found.
        output_dir: where the bytecode went (``Release`` only), else ``None``.
        seconds: wall time of the build.
    """

    project: Path
    profile: BuildProfile
    errors: tuple[BuildMessage, ...] = ()
    warnings: tuple[BuildMessage, ...] = ()
    files: int = 0
    plugins: tuple[str, ...] = ()
    output_dir: Path | None = None
    seconds: float = 0.0
    notes: tuple[str, ...] = field(default=())

    @property
    def ok(self) -> bool:
        """Whether the build succeeded (no error; warnings do not count)."""
        return not self.errors

    def summary(self) -> str:
        """One line: the outcome, the counts and the time."""
        where = f" -> {self.output_dir}" if self.output_dir is not None else ""
        took = f"{self.seconds * 1000:.0f} ms"
        files = f"{self.files} file{'s' if self.files != 1 else ''}"
        plugins = f"{len(self.plugins)} plugin{'s' if len(self.plugins) != 1 else ''}"
        if self.ok:
            warn = len(self.warnings)
            extra = f", {warn} warning{'s' if warn != 1 else ''}" if warn else ""
            return f"build succeeded ({self.profile}): {files} of {plugins} in {took}{extra}{where}"
        n = len(self.errors)
        return (
            f"build failed ({self.profile}): {n} error{'s' if n != 1 else ''} "
            f"in {files} of {plugins} ({took})"
        )

    def lines(self) -> list[str]:
        """The build log: every error and warning with its source line, then the summary."""
        out: list[str] = list(self.notes)
        for m in (*self.errors, *self.warnings):
            out.append(str(m))
            if m.source_line.strip():
                text = m.source_line.rstrip("\n")
                out.append(f"    {text}")
                if m.column > 0:
                    # Columns are 1-based characters; keep tabs so the caret lines up.
                    pad = "".join(c if c == "\t" else " " for c in text[: m.column - 1])
                    out.append(f"    {pad}^")
        out.append(self.summary())
        return out


def release_dir(project: Project | str | os.PathLike[str]) -> Path:
    """Where a Release build of `project` writes its output (``<root>/build/release``)."""
    p = project if isinstance(project, Project) else Project.open(project)
    return p.build_dir / "release"


def build_project(
    project_dir: Project | str | os.PathLike[str], profile: BuildProfile
) -> BuildResult:
    """Compile every plugin source of a project for `profile`.

    Never raises for problems in plugin code, nor for a Release output that
    cannot be written (a read-only project, a full disk): they are errors in
    the result, one line each.

    Args:
        project_dir: the project root (or an opened `Project`).
        profile: ``Release`` compiles optimized and writes bytecode; the debug
            profiles only check that everything compiles.

    Returns:
        The `BuildResult`; ``result.ok`` is false when any file failed.

    Raises:
        runtime.project.ProjectError: `project_dir` is not a project.
    """
    started = time.perf_counter()
    project = project_dir if isinstance(project_dir, Project) else Project.open(project_dir)
    optimize = RELEASE_OPTIMIZE if profile.precompiled else 0
    host = PluginHost(project.plugins_dir, optimize=optimize)
    errors: list[BuildMessage] = []
    warns: list[BuildMessage] = []
    compiled: dict[Path, tuple[bytes, types.CodeType]] = {}
    try:
        names = _discover(host, warns)
        for name in names:
            # Every file, not only those loading imports: any file a relative import
            # can reach must be in the build.
            for source in plugin_sources(host.plugins_dir / name, None):
                code = _compile_one(host, source.path, errors, warns)
                if code is not None:
                    compiled[source.path] = code
    finally:
        host.close()
    files = len(compiled) + len({e.path for e in errors})
    output: Path | None = None
    notes: list[str] = []
    if profile.precompiled and not errors:
        target = release_dir(project)
        try:
            _write_release(target, host.plugins_dir, compiled)
        except OSError as exc:
            where = exc.filename if exc.filename is not None else target
            why = exc.strerror or str(exc)
            errors.append(BuildMessage(str(where), 0, 0, f"cannot write the Release build: {why}"))
        else:
            output = target
            notes.append(f"wrote {len(compiled)} bytecode files to {output}")
    return BuildResult(
        project=project.root,
        profile=profile,
        errors=tuple(errors),
        warnings=tuple(warns),
        files=files,
        plugins=tuple(names),
        output_dir=output,
        seconds=time.perf_counter() - started,
        notes=tuple(notes),
    )


class _Collect(logging.Handler):
    def __init__(self, plugins_dir: Path, out: list[BuildMessage]) -> None:
        super().__init__(logging.WARNING)
        self.plugins_dir = plugins_dir
        self.out = out

    def emit(self, record: logging.LogRecord) -> None:
        self.out.append(BuildMessage(str(self.plugins_dir), 1, 0, record.getMessage(), "warning"))


def _discover(host: PluginHost, warns: list[BuildMessage]) -> list[str]:
    """The plugin packages, with discovery's complaints (a folder that is not a package) kept."""
    logger = logging.getLogger("hotplay.plugins")
    handler = _Collect(host.plugins_dir, warns)
    logger.addHandler(handler)
    try:
        return host.discover()
    finally:
        logger.removeHandler(handler)


def _compile_one(
    host: PluginHost, path: Path, errors: list[BuildMessage], warns: list[BuildMessage]
) -> tuple[bytes, types.CodeType] | None:
    """Compile one file with the game's compiler; record its error or warnings."""
    try:
        source = path.read_bytes()
    except OSError as exc:
        errors.append(BuildMessage(str(path), 1, 0, f"cannot read: {exc.strerror or exc}"))
        return None
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            code = host.compiler.compile(path).code
        except SyntaxError as exc:
            errors.append(_syntax_message(path, exc))
            return None
        except (ValueError, UnicodeDecodeError) as exc:  # null bytes, an undecodable file
            errors.append(BuildMessage(str(path), 1, 0, f"{type(exc).__name__}: {exc}"))
            return None
    for w in caught:
        warns.append(
            BuildMessage(
                str(w.filename or path),
                int(w.lineno or 1),
                0,
                f"{w.category.__name__}: {w.message}",
                "warning",
                _line_of(path, int(w.lineno or 1)),
            )
        )
    return source, code


def _syntax_message(path: Path, exc: SyntaxError) -> BuildMessage:
    line = exc.lineno or 1
    text = exc.text if exc.text is not None else _line_of(path, line)
    return BuildMessage(
        str(exc.filename or path),
        line,
        exc.offset or 0,
        f"{type(exc).__name__}: {exc.msg}",
        "error",
        text or "",
    )


def _line_of(path: Path, line: int) -> str:
    try:
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return ""
    return lines[line - 1] if 0 < line <= len(lines) else ""


# --- the Release output ---------------------------------------------------------------


def _write_release(
    output: Path, plugins_dir: Path, compiled: dict[Path, tuple[bytes, types.CodeType]]
) -> None:
    """Write the bytecode and manifest into a fresh folder, then swap it in for `output`."""
    output.parent.mkdir(parents=True, exist_ok=True)
    fresh = Path(tempfile.mkdtemp(prefix=".release-", dir=output.parent))
    try:
        files: dict[str, str] = {}
        for path, (source, code) in compiled.items():
            rel = path.relative_to(plugins_dir)
            target = fresh / "plugins" / rel.with_suffix(".pyc")
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(pyc_bytes(source, code))
            files[rel.as_posix()] = hashlib.blake2b(source, digest_size=16).hexdigest()
        manifest = {
            "format": BUILD_FORMAT,
            "profile": BuildProfile.RELEASE.value,
            "optimize": RELEASE_OPTIMIZE,
            "python": sys.version.split()[0],
            "magic": importlib.util.MAGIC_NUMBER.hex(),
            "files": files,
        }
        (fresh / MANIFEST).write_text(json.dumps(manifest, indent=1) + "\n", encoding="utf-8")
        # Renaming onto a non-empty folder fails on POSIX: move the old one aside first.
        old = None
        if output.exists():
            old = Path(tempfile.mkdtemp(prefix=".release-old-", dir=output.parent))
            os.replace(output, old / "release")
        os.replace(fresh, output)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(fresh, ignore_errors=True)
        raise


def stale_sources(bytecode_dir: Path, plugins_dir: Path) -> list[str]:
    """Plugin files changed, added or deleted since the Release build (relative paths).

    The release player runs the build as it is; this only tells the user that
    saved changes are not in it yet.
    """
    try:
        manifest = json.loads((bytecode_dir / MANIFEST).read_text(encoding="utf-8"))
        built: dict[str, str] = dict(manifest.get("files", {}))
    except (OSError, ValueError, TypeError, AttributeError):
        return ["(no readable manifest)"]
    out = []
    seen = set()
    if plugins_dir.is_dir():
        for d in sorted(plugins_dir.iterdir()):
            if not d.is_dir() or d.name.startswith((".", "_")):
                continue
            for source in plugin_sources(d, None):
                path = source.path
                rel = path.relative_to(plugins_dir).as_posix()
                seen.add(rel)
                try:
                    digest = hashlib.blake2b(path.read_bytes(), digest_size=16).hexdigest()
                except OSError:
                    continue
                if built.get(rel) != digest:
                    out.append(rel)
    out += sorted(set(built) - seen)
    return out
