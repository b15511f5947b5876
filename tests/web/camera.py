"""A fake camera for Chromium: a Y4M video (YUV 4:2:0) made from an image, for
``--use-file-for-fake-video-capture``."""
from __future__ import annotations

import io
from pathlib import Path

import numpy as np
from PIL import Image

WIDTH, HEIGHT = 640, 480


def y4m_from_image(image_bytes: bytes, path: Path, frames: int = 5, fit: int = 400) -> Path:
    """Write ``image_bytes`` (a PNG or JPEG) centred on a white 640×480 frame, scaled to at
    most ``fit`` pixels, as a short Y4M video that Chromium's fake camera loops."""
    image = Image.open(io.BytesIO(image_bytes)).convert("RGB")
    scale = min(fit / image.width, fit / image.height)
    # NEAREST keeps a QR code's modules sharp; photos barely change at this scale.
    image = image.resize((max(1, int(image.width * scale)), max(1, int(image.height * scale))),
                         Image.NEAREST)
    canvas = Image.new("RGB", (WIDTH, HEIGHT), "white")
    canvas.paste(image, ((WIDTH - image.width) // 2, (HEIGHT - image.height) // 2))
    rgb = np.asarray(canvas, dtype=np.float32)
    r, g, b = rgb[..., 0], rgb[..., 1], rgb[..., 2]
    # BT.601 full range, as the C420jpeg colour space says.
    y = 0.299 * r + 0.587 * g + 0.114 * b
    u = -0.168736 * r - 0.331264 * g + 0.5 * b + 128
    v = 0.5 * r - 0.418688 * g - 0.081312 * b + 128

    def plane(values, subsample=False):
        if subsample:
            values = values.reshape(HEIGHT // 2, 2, WIDTH // 2, 2).mean(axis=(1, 3))
        return np.clip(np.rint(values), 0, 255).astype(np.uint8).tobytes()

    frame = b"FRAME\n" + plane(y) + plane(u, True) + plane(v, True)
    header = f"YUV4MPEG2 W{WIDTH} H{HEIGHT} F10:1 Ip A1:1 C420jpeg\n".encode()
    path.write_bytes(header + frame * frames)
    return path


def fake_camera_args(video: Path) -> list[str]:
    return ["--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
            f"--use-file-for-fake-video-capture={video}"]
