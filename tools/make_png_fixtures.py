"""Writes tests/fixtures/png/: tiny PNGs covering every colour type x bit depth,
palettes with and without tRNS, gray / RGB tRNS, and one Adam7-interlaced file,
for the PNG decoder tests (tests/lib/png_decode_test.ts).

Build time only (the tests never run Python). From the project root:

    /usr/bin/python3 tools/make_png_fixtures.py

Needs Debian's python3-pil (Pillow 9.4) and python3-opencv (4.6, libpng). Real
encoders write what they can: Pillow (its own adaptive row filters) for 1/8/16-bit
gray, palettes of 1/2/4/8 bits, tRNS, gray + alpha and RGBA at 8 bits; OpenCV
(libpng's adaptive filters) for 16-bit RGB and RGBA. Neither writes 2/4-bit gray,
16-bit gray + alpha, tRNS on 16-bit images or interlacing: `write_png` below does
(zlib level 9, the row filters cycling None, Sub, Up, Average, Paeth).

Pixels are deterministic: sample `k` of pixel (x, y) is `pattern(x, y, k)`.
"""

import os
import struct
import zlib

import cv2
import numpy as np
from PIL import Image

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures", "png")
W, H = 13, 7  # odd width: sub-byte rows end in padding bits


def pattern(x, y, k):
    """A value in [0, 65535]: gradients plus a hash, so that filters differ."""
    h = (x * 73856093) ^ (y * 19349663) ^ (k * 83492791)
    return ((x * 4099 + y * 7919 + k * 21011) + (h & 0x3FFF)) & 0xFFFF


def samples(channels, bits):
    """H x W x channels array of samples at `bits` depth."""
    a = np.array([[[pattern(x, y, k) for k in range(channels)] for x in range(W)] for y in range(H)])
    return (a >> (16 - bits)).astype(np.uint16 if bits == 16 else np.uint8)


def alpha_plane():
    """Alpha with 0, 255 and values between, at 8 bits."""
    a = samples(1, 8)[:, :, 0]
    a[0, :4] = [0, 255, 128, 1]
    return a


def chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def filter_row(f, row, prev, bpp):
    out = bytearray(len(row))
    for i, v in enumerate(row):
        a = row[i - bpp] if i >= bpp else 0
        b = prev[i]
        c = prev[i - bpp] if i >= bpp else 0
        if f == 0:
            pred = 0
        elif f == 1:
            pred = a
        elif f == 2:
            pred = b
        elif f == 3:
            pred = (a + b) // 2
        else:
            pa, pb, pc = abs(b - c), abs(a - c), abs(a + b - 2 * c)
            pred = a if pa <= pb and pa <= pc else b if pb <= pc else c
        out[i] = (v - pred) & 0xFF
    return bytes([f]) + bytes(out)


def pack_rows(pixels, bits):
    """H x W x C samples to packed rows of bytes (big-endian, MSB first)."""
    h, w, c = pixels.shape
    rows = []
    for y in range(h):
        if bits == 16:
            rows.append(pixels[y].astype(">u2").tobytes())
        elif bits == 8:
            rows.append(pixels[y].astype(np.uint8).tobytes())
        else:
            flat = pixels[y].reshape(-1)
            n = (len(flat) * bits + 7) // 8
            row = bytearray(n)
            for i, v in enumerate(flat):
                row[(i * bits) // 8] |= int(v) << (8 - bits - (i * bits) % 8)
            rows.append(bytes(row))
    return rows


def filtered(rows, bpp, first_filter=0):
    data, prev = b"", bytes(len(rows[0]))
    for y, row in enumerate(rows):
        data += filter_row((first_filter + y) % 5, row, prev, bpp)
        prev = row
    return data


ADAM7 = [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2)]


def write_png(name, pixels, bits, color_type, trns=None, interlace=False):
    """Our own writer for what Pillow and OpenCV cannot write."""
    channels = pixels.shape[2]
    bpp = max(1, channels * bits // 8)
    if interlace:
        data = b""
        for x0, y0, dx, dy in ADAM7:
            sub = pixels[y0::dy, x0::dx]
            if sub.size:
                data += filtered(pack_rows(sub, bits), bpp)
    else:
        data = filtered(pack_rows(pixels, bits), bpp)
    h, w = pixels.shape[:2]
    ihdr = struct.pack(">IIBBBBB", w, h, bits, color_type, 0, 0, 1 if interlace else 0)
    png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr)
    if trns is not None:
        png += chunk(b"tRNS", struct.pack(">" + "H" * len(trns), *trns))
    png += chunk(b"IDAT", zlib.compress(data, 9)) + chunk(b"IEND", b"")
    with open(os.path.join(OUT, name), "wb") as f:
        f.write(png)


def save_pil(name, image, **options):
    image.save(os.path.join(OUT, name), **options)


def palette_image(bits):
    colours = 1 << bits
    index = (samples(1, 8)[:, :, 0].astype(int) % colours).astype(np.uint8)
    image = Image.fromarray(index, "P")
    image.putpalette([pattern(i, 99, k) >> 8 for i in range(colours) for k in range(3)])
    return image


def main():
    os.makedirs(OUT, exist_ok=True)
    gray8 = samples(1, 8)[:, :, 0]
    rgb8 = samples(3, 8)

    # Pillow.
    save_pil("gray_1.png", Image.fromarray(gray8 > 127).convert("1"))
    save_pil("gray_8.png", Image.fromarray(gray8, "L"))
    save_pil("gray_8_trns.png", Image.fromarray(gray8, "L"), transparency=int(gray8[0, 0]))
    save_pil("gray_16.png", Image.fromarray(samples(1, 16)[:, :, 0].astype(np.uint16), "I;16"))
    for bits in (1, 2, 4, 8):
        save_pil(f"palette_{bits}.png", palette_image(bits), bits=bits)
        alphas = [0, 128, 255, 64][: 1 << bits]  # shorter than the palette at 4 and 8 bits
        save_pil(f"palette_{bits}_trns.png", palette_image(bits), bits=bits, transparency=bytes(alphas))
    save_pil("rgb_8_trns.png", Image.fromarray(rgb8, "RGB"), transparency=tuple(int(v) for v in rgb8[0, 0]))
    save_pil("gray_alpha_8.png", Image.fromarray(np.dstack([gray8, alpha_plane()]), "LA"))
    save_pil("rgba_8.png", Image.fromarray(np.dstack([rgb8, alpha_plane()]), "RGBA"))

    # OpenCV (libpng): channels in BGR(A) order.
    rgb16 = samples(3, 16)
    cv2.imwrite(os.path.join(OUT, "rgb_16.png"), rgb16[:, :, ::-1])
    rgba16 = np.dstack([rgb16, alpha_plane().astype(np.uint16) * 257])
    rgba16[1, 1, 3] = 0x80FF  # high byte 128, low byte not a copy of it
    cv2.imwrite(os.path.join(OUT, "rgba_16.png"), rgba16[:, :, [2, 1, 0, 3]])

    # Our writer.
    for bits in (2, 4):
        g = samples(1, bits)
        write_png(f"gray_{bits}.png", g, bits, 0)
        write_png(f"gray_{bits}_trns.png", g, bits, 0, trns=[int(g[0, 0, 0])])
    g16 = samples(1, 16)
    write_png("gray_16_trns.png", g16, 16, 0, trns=[int(g16[0, 0, 0])])
    # Same high byte, other low byte: must stay opaque.
    g16[0, 1, 0] = (g16[0, 0, 0] & 0xFF00) | ((g16[0, 0, 0] + 1) & 0xFF)
    write_png("gray_16_trns_near.png", g16, 16, 0, trns=[int(g16[0, 0, 0])])
    la16 = np.dstack([samples(1, 16), alpha_plane().astype(np.uint16) * 257])
    write_png("gray_alpha_16.png", la16, 16, 4)
    write_png("rgb_16_trns.png", rgb16, 16, 2, trns=[int(v) for v in rgb16[0, 0]])
    write_png("rgb_8_interlaced.png", rgb8, 8, 2, interlace=True)
    write_png("rgb_8_filters.png", rgb8, 8, 2)


if __name__ == "__main__":
    main()
