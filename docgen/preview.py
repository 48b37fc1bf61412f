"""Page previews: PDF bytes in, one PNG per page out (pypdfium2, a maintained PDFium binding)."""
from __future__ import annotations

from pathlib import Path

from ._io import atomic_write


def write_pngs(pdf: bytes, folder: Path, *, prefix: str = "page", scale: float = 1.5) -> list[Path]:
    import io

    import pypdfium2 as pdfium
    doc = pdfium.PdfDocument(pdf)
    out = []
    try:
        for i in range(len(doc)):
            img = doc[i].render(scale=scale).to_pil()
            buf = io.BytesIO()
            img.save(buf, format="PNG")
            out.append(atomic_write(folder / f"{prefix}-{i + 1:03d}.png", buf.getvalue()))
    finally:
        doc.close()
    return out
