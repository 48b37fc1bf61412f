"""PDF/A-2b parts: nothing in, the sRGB ICC profile and the output intent that name the file's colour out.

docgen paints in DeviceRGB; PDF/A-2 (ISO 19005-2 6.2.3) allows that only under an output intent whose
profile is RGB.  The profile is not a bundled file: LittleCMS (through Pillow's ImageCms) builds the
standard sRGB IEC 61966-2.1 profile from its published primaries and tone curve, which are facts, not
anyone's copyrighted data, so nothing needs a licence.  LittleCMS stamps the build time into the header
(bytes 24–35); it is set to 2000-01-01 so that the same spec still gives the same bytes.
"""

from __future__ import annotations

import functools
import struct

SRGB = "sRGB IEC61966-2.1"


@functools.lru_cache(maxsize=1)
def srgb_profile() -> bytes:
    """The sRGB ICC profile (v2/v4 as LittleCMS writes it, 3 channels), deterministic bytes."""
    from PIL import ImageCms

    data = bytearray(ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes())
    data[24:36] = struct.pack(">6H", 2000, 1, 1, 0, 0, 0)
    data[84:100] = bytes(16)  # the profile ID (an MD5 over the header) is optional: none
    # PDF 1.7 names ICC.1:2004-10 (v4.2); LittleCMS labels its output 4.4, with only tags 4.2 has
    data[8:12] = b"\x04\x20\x00\x00"
    return bytes(data)
