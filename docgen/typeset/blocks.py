"""Drawings of spec block kinds that have no core markup: a ``<block ref=…>`` Element in, flowables out.

The layout stage hands such a block over as an Element whose tag is the block's kind and whose ``data``
is the block's template mapping (see :mod:`docgen.layout.blocks`).  Register a drawing with
``@extensions.draws("kind")``; it gets the Typesetter and the Element.  No kind needs this yet: every
current kind has markup of its own in ``layouts/_shared/blocks.j2``.  ``docs/architecture.md`` shows a
whole new kind, spec model to drawing.
"""
from __future__ import annotations
