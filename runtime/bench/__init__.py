"""``python -m runtime.bench``: hot reload, frame and start-up benchmarks, with verification.

The benchmark builds a throw-away project in a temporary folder (`project`): one
plugin of four modules (the package ``__init__`` with the `Plugin` class,
``movers`` with the `Script` class that is edited, ``helpers`` and ``data`` with
an enum and a dataclass) and a scene of N scripted entities, each with a float,
a `Vec2`, a string, a list, a `Handle` to another entity and an int counter.

It runs that project in a ``Debug (HR)`` `Game`, headless, with the real file
watcher (`world`), and rewrites ``movers.py`` again and again, alternating the
step its ``on_update`` adds to a counter (1 or 2). For each save it measures the
time from just before the file is written to the end of the first frame that
runs the new code, and the wall time of `Game.reload` with the replaced objects
freed (`reload` says exactly what that figure holds), and it *verifies* the
reload (`verify`): every entity's position and every field are compared
exactly before and after, and one frame later every counter must have moved by
the new step. Field-changing edits (a field added, one removed, two retyped)
are timed too, and verified against the migration rules. A failed
verification aborts the benchmark (exit status 1); numbers from a reload that
was not verified are not results.

Beside the reload times it measures, in the same run and on the same data:

* the *floor* (`floor`): the reload's own work done the plainest way, with the
  collector off: compiling and running the changed module, a columnar msgpack
  round trip of every script, a rebuild with ``cls.__new__`` and ``__dict__``
  updates, and freeing as many objects; one floor after every reload;
* the same reload with a million unrelated live Python objects in the process (`reload`);
* resident memory growth and surviving old module generations over many reloads (`soak`);
* the frame time of a headless update, and of drawing the scene's visuals
  offscreen with `runtime.qt.render.SceneRenderer` in a child process (`frames`);
* start-up of the headless player and of the editor, as child processes (`startup`);
* jurigged on the same edit and scene, side by side, when it is installed
  (the ``compare`` extra; `compare`);
* the editor, a real window offscreen in a child process: an edit, undo or redo
  in a 100,000-entity scene to the views being up to date, and save -> the scene
  view showing the new code during in-editor Play (`editor_figures`).

`run` runs them in order, `report` holds the figures and renders the table,
the README's Markdown table and the JSON, `cli` is the command line. Run
``python -m runtime.bench --help`` for the options; ``--quick`` is the CI smoke
run; ``--merge A.json B.json`` prints the README table over several runs
(min / median / max).
"""
