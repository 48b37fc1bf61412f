"""A render in a child process under limits of time and memory, for servers that render specs others wrote.

Input: a function, a :class:`~docgen.spec.limits.Limits` and the function's arguments.  Output: the
function's result, or the DocgenError it raised; a child that runs past ``seconds`` is killed and one
that runs out of ``memory`` (its address space is capped with ``RLIMIT_AS`` where the OS has it) stops,
each reported as a :class:`~docgen.errors.RenderError`.  The child is a fresh interpreter
(``python -m docgen._isolate``, arguments pickled on its stdin): nothing of the caller — threads, its
main module — is copied into it.
"""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
from pathlib import Path

from .errors import DocgenError, RenderError


def _size(n: int) -> str:
    return f"{n / 2**30:g} GiB" if n >= 2**30 else f"{n / 2**20:g} MiB"


def run_isolated(fn, limits, *args, **kwargs):
    try:
        payload = pickle.dumps((limits.memory, fn, args, kwargs))
    except Exception as e:
        raise TypeError(f"a render with limits runs in a child process; its arguments must pickle: {e}") from None
    env = dict(os.environ)
    here = str(Path(__file__).resolve().parent.parent)  # the folder holding this docgen package
    env["PYTHONPATH"] = os.pathsep.join([here] + ([env["PYTHONPATH"]] if env.get("PYTHONPATH") else []))
    proc = subprocess.Popen(
        [sys.executable, "-m", "docgen._isolate"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    )
    try:
        out, err = proc.communicate(payload, timeout=limits.seconds)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        raise RenderError(f"the render ran longer than {limits.seconds:g} s (limits.seconds) and was stopped") from None
    except BaseException:
        proc.kill()
        proc.communicate()
        raise
    try:
        kind, value = pickle.loads(out)
    except Exception:
        if limits.memory:
            raise RenderError(
                f"the render stopped (exit {proc.returncode}), most likely out of its "
                f"{_size(limits.memory)} of memory (limits.memory)"
            ) from None
        tail = err.decode("utf-8", "replace").strip().splitlines()[-1:] or [""]
        raise RenderError(f"the render's child process stopped (exit {proc.returncode}): {tail[0]}") from None
    if kind == "ok":
        return value
    if kind == "error":
        raise value
    if kind == "memory":
        raise RenderError(f"the render needed more than {_size(limits.memory)} of memory (limits.memory)")
    raise RenderError(f"the render failed in its child process: {value}")


def _child() -> None:
    data = sys.stdin.buffer.read()
    memory = pickle.loads(data)[0] if data else None
    out = sys.stdout.buffer
    if memory:
        try:
            import resource

            resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
        except (ImportError, ValueError, OSError):  # no RLIMIT_AS here (Windows): time only
            pass
    try:
        _, fn, args, kwargs = pickle.loads(data)
        reply = ("ok", fn(*args, **kwargs))
    except MemoryError:
        reply = ("memory", None)
    except DocgenError as e:
        reply = ("error", e)
    except BaseException as e:  # a bug: its text, not a traceback across processes
        reply = ("bug", f"{type(e).__name__}: {e}")
    try:
        blob = pickle.dumps(reply)
    except MemoryError:
        blob = pickle.dumps(("memory", None))
    out.write(blob)
    out.flush()


if __name__ == "__main__":
    _child()
