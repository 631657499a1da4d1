"""Photo intake: only real images, bounded, re-encoded with every byte of metadata dropped.

Phones embed GPS coordinates, device serials and timestamps in EXIF/XMP. We never store
the uploaded bytes: the image is decoded, turned upright by its orientation tag, and re-encoded from
pixels alone as a fresh JPEG, so nothing from the original file survives but the picture.
"""

import io
import warnings

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile
from django.utils.translation import gettext as _
from PIL import Image, ImageOps, UnidentifiedImageError

MAX_SIDE = 2560  # stored photos are resized to this; enough to see a broken lamp


class PhotoRefused(Exception):
    """An upload that is not a photo we accept; the message is in the active language.

    Shared by every upload path (residents' concerns, safety-walk stops), which turn it into their
    own refusal on their `photo` field.
    """

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message
        self.field = "photo"


def photo_clean(upload: UploadedFile) -> ContentFile:
    """Validate and re-encode an uploaded photo; refusals carry a translated message."""
    max_bytes = settings.CONVIVE_PHOTO_MAX_BYTES
    max_pixels = settings.CONVIVE_PHOTO_MAX_PIXELS
    if upload.size is not None and upload.size > max_bytes:
        raise PhotoRefused(
            _("The photo is too large. Please send a photo of at most %(mb)d MB.")
            % {"mb": max_bytes // (1024 * 1024)},
        )
    data = upload.read()
    if len(data) > max_bytes:
        raise PhotoRefused(
            _("The photo is too large. Please send a photo of at most %(mb)d MB.")
            % {"mb": max_bytes // (1024 * 1024)},
        )
    not_image = PhotoRefused(
        _("This file is not a photo we can read. Please send a JPEG, PNG or WebP image."),
    )
    too_many_pixels = PhotoRefused(
        _("The photo has too many pixels. Please send a photo of at most %(mp)d megapixels.")
        % {"mp": max_pixels // 1_000_000},
    )
    try:
        with warnings.catch_warnings():
            # Pillow warns between MAX_IMAGE_PIXELS and twice that; we treat the warning as a bomb.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as probe:
                if probe.format not in {"JPEG", "PNG", "WEBP", "GIF", "MPO"}:
                    raise not_image
                width, height = probe.size
                if width * height > max_pixels:
                    raise too_many_pixels
                probe.verify()
            with Image.open(io.BytesIO(data)) as image:
                image.load()
                image = ImageOps.exif_transpose(image)
                if image.mode not in ("RGB", "L"):
                    background = Image.new("RGB", image.size, "white")
                    rgba = image.convert("RGBA")
                    background.paste(rgba, mask=rgba.getchannel("A"))
                    image = background
                else:
                    image = image.convert("RGB")
                image.thumbnail((MAX_SIDE, MAX_SIDE))
                # A fresh image from the pixels only: no EXIF, XMP, ICC or comment can follow.
                clean = Image.new("RGB", image.size)
                clean.paste(image)
                buffer = io.BytesIO()
                clean.save(buffer, "JPEG", quality=85, optimize=True)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise too_many_pixels from None
    except PhotoRefused:
        raise
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        raise not_image from None
    return ContentFile(buffer.getvalue(), name="photo.jpg")
