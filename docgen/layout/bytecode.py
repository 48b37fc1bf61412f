"""Compiled layout templates on disk: Jinja's bytecode cache, so a fresh process does not compile them again.

Compiling the brochure layout's templates (its ``template.xml.j2`` and the shared macros it imports) costs
~20 ms of a cold render; loading them compiled costs ~1 ms.  One entry per template file::

    <cache>/templates/<name key>.j2c

``name key``: the sha256 of the environment's fingerprint (see :func:`fingerprint`), the template's name
and its file's path — an entry is replaced in place when its template changes.  The entry is sealed
(:func:`docgen._io.write_sealed`: a magic string, the sha256 of the body, the body; written atomically);
its body starts with the sha256 of the fingerprint, the name, the path and the template's source, then
what Jinja's :class:`jinja2.bccache.Bucket` writes (Jinja's own magic with the Python version, the
source's checksum, the marshalled code).  An entry that does not verify, was written for other source, another
Jinja, docgen or Python, or another environment, is a miss: the template is compiled as before and the
entry written again.  The cache only spares the compiler: every template is still read through the
layout's confined loader, and the sandbox is the environment the code runs in, as when it was compiled.

An entry is code, so it is only loaded from a file this user owns that others cannot write (POSIX);
``DOCGEN_TEMPLATE_CACHE=0`` turns the cache off.
"""

from __future__ import annotations

import hashlib
import os
import stat
import sys
from pathlib import Path

from jinja2 import Environment
from jinja2.bccache import Bucket, BytecodeCache

FORMAT = 1
MAGIC = b"DGJ2C1\n"
SUFFIX = ".j2c"


def enabled() -> bool:
    return os.environ.get("DOCGEN_TEMPLATE_CACHE", "1") != "0"


def folder() -> Path:
    from docgen._io import user_cache_root

    return user_cache_root() / "templates"


def fingerprint(env: Environment) -> str:
    """Everything besides a template's source that the code Jinja compiles from it depends on: the versions
    (Jinja, docgen, the Python bytecode), the environment's class (the sandbox and the operators it
    intercepts are compiled in), its syntax and whitespace settings, its extensions, and the bytes of the
    module that configures it (docgen's environment changes without a new version number while developed)."""
    import importlib.util

    import jinja2

    import docgen
    from docgen import layout

    cls = type(env)
    parts = (
        FORMAT,
        jinja2.__version__,
        getattr(docgen, "__version__", "?"),
        sys.implementation.cache_tag,
        importlib.util.MAGIC_NUMBER.hex(),
        f"{cls.__module__}.{cls.__qualname__}",
        sorted(getattr(env, "intercepted_binops", ())),
        sorted(getattr(env, "intercepted_unops", ())),
        env.sandboxed,
        env.is_async,
        env.optimized,
        repr(env.autoescape) if isinstance(env.autoescape, bool) else env.autoescape.__qualname__,
        env.trim_blocks,
        env.lstrip_blocks,
        env.keep_trailing_newline,
        env.newline_sequence,
        env.block_start_string,
        env.block_end_string,
        env.variable_start_string,
        env.variable_end_string,
        env.comment_start_string,
        env.comment_end_string,
        env.line_statement_prefix,
        env.line_comment_prefix,
        repr(env.finalize),
        sorted(env.extensions),
        hashlib.sha256(Path(layout.__file__).read_bytes()).hexdigest(),
    )
    return repr(parts)


def _owned(st: os.stat_result) -> bool:
    """A regular file that only this user could have written (POSIX; elsewhere the folder's ACLs decide)."""
    if not stat.S_ISREG(st.st_mode):
        return False
    if not hasattr(os, "getuid"):
        return True
    return st.st_uid == os.getuid() and not st.st_mode & stat.S_IWOTH


def _read(path: Path) -> bytes | None:
    """An entry's body, or None: no entry, not this user's file, or sealed bytes that do not verify."""
    from docgen._io import read_sealed

    body = read_sealed(path, MAGIC, accept=_owned)
    return None if body is None else bytes(body)


class TemplateCache(BytecodeCache):
    """Jinja's :class:`~jinja2.BytecodeCache` over docgen's cache folder (found when an entry is looked
    up: ``DOCGEN_CACHE_DIR`` may change in a process).  Failing to read or write is never an error."""

    def __init__(self, env_fingerprint: str):
        self._fp = env_fingerprint.encode("utf-8")

    def _hash(self, *parts: str) -> "hashlib._Hash":
        h = hashlib.sha256(self._fp)
        for part in parts:
            h.update(b"\0" + part.encode("utf-8", "surrogatepass"))
        return h

    def get_bucket(self, environment: Environment, name: str, filename: str | None, source: str) -> Bucket:
        bucket = Bucket(environment, self._hash(name, filename or "").hexdigest(), self.get_source_checksum(source))
        bucket.docgen_seal = self._hash(name, filename or "", source).digest()  # type: ignore[attr-defined]
        self.load_bytecode(bucket)
        return bucket

    def load_bytecode(self, bucket: Bucket) -> None:
        body = _read(folder() / f"{bucket.key}{SUFFIX}")
        if body is not None and body[:32] == bucket.docgen_seal:  # type: ignore[attr-defined]
            bucket.bytecode_from_string(body[32:])  # Jinja checks its own magic and checksum too

    def dump_bytecode(self, bucket: Bucket) -> None:
        from docgen._io import write_sealed

        seal = getattr(bucket, "docgen_seal", None)
        if seal is not None and bucket.code is not None:
            write_sealed(folder() / f"{bucket.key}{SUFFIX}", MAGIC, seal + bucket.bytecode_to_string())


def for_environment(env: Environment) -> TemplateCache | None:
    """The cache for templates ``env`` compiles, or None when it is turned off (or cannot be keyed)."""
    if not enabled():
        return None
    try:
        return TemplateCache(fingerprint(env))
    except (OSError, AttributeError):
        return None
