"""Region backends by name: a name (or ``auto``) and a :class:`~docgen.regions.config.ModelConfig` in, a
backend out.

A factory takes the ModelConfig and returns a backend (a class taking the config works as its own
factory).  ``draft`` and ``qwen-image`` are registered here; the Qwen-Image factory imports its package
only when called, so importing the registry imports no torch.  ``auto`` is not a backend: it resolves
to ``qwen-image`` when its weights and a GPU are present, else to ``draft`` with the reason.  Code
outside this stage asks a backend's :class:`~docgen.regions.base.Capabilities`, never its name.
"""
from __future__ import annotations

from typing import Callable

from docgen.errors import DocgenError
from docgen.regions.base import RegionBackend
from docgen.regions.config import ModelConfig
from docgen.regions.draft import DraftBackend

AUTO = "auto"

Factory = Callable[[ModelConfig], RegionBackend]

_FACTORIES: dict[str, Factory] = {}


def register(name: str, factory: Factory) -> None:
    """Make ``name`` a backend: ``factory(config)`` builds it (a second registration replaces the first)."""
    if not name or name == AUTO:
        raise DocgenError(f"backend: {name!r} cannot name a backend (reserved)")
    _FACTORIES[name] = factory


def backend_names() -> tuple[str, ...]:
    """The registered names, in registration order (``auto`` is not one of them)."""
    return tuple(_FACTORIES)


def create_backend(name: str, config: ModelConfig) -> RegionBackend:
    """The backend registered as ``name``, built for ``config``."""
    factory = _FACTORIES.get(name)
    if factory is None:
        raise DocgenError(f"backend: unknown region backend {name!r} "
                          f"(registered: {', '.join((AUTO, *backend_names()))})")
    return factory(config)


def get_backend(name: str | None = None, config: ModelConfig | None = None) -> tuple[RegionBackend, str | None]:
    """The backend to use, and a note when ``auto`` fell back to the draft backend (why).

    ``name`` wins over ``config.backend``; neither given → the environment / config file, else ``auto``.
    """
    cfg = config or ModelConfig.from_env({"backend": name} if name else None)
    name = name or cfg.backend
    if name != AUTO:
        return create_backend(name, cfg), None
    from docgen.regions import qwen
    backend, why = qwen.available_backend(required=False, config=cfg)
    if backend is not None:
        return backend, None
    return create_backend("draft", cfg), why


def _draft(config: ModelConfig) -> RegionBackend:
    return DraftBackend()


def _qwen_image(config: ModelConfig) -> RegionBackend:
    # Asked for by name, so it must run here: a missing GPU mode or missing weights is a ModelError.
    from docgen.regions import qwen
    backend, _ = qwen.available_backend(required=True, config=config)
    return backend


register("draft", _draft)
register("qwen-image", _qwen_image)
