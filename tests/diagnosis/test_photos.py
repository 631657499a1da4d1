"""Photos sent with a concern: real images only, bounded, stored without any metadata."""

import io
import uuid

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from diagnosis.models import Concern
from tests.conftest import EL_CHICO_POINT, gps_exif, jpeg_bytes
from tests.diagnosis.conftest import form_data

URL = "/en/chapinero/report/"


@pytest.fixture
def english(consultation, locales):
    from django.utils import translation

    with translation.override("es"):
        page = consultation.copy_for_translation(locales["en"], copy_parents=True)
    page.save_revision().publish()
    return page


def post_photo(client, categories, photo, url=URL):
    return client.post(url, form_data(categories, photo=photo))


def stored_image(concern: Concern) -> tuple[Image.Image, bytes]:
    with concern.photo.open("rb") as handle:
        data = handle.read()
    return Image.open(io.BytesIO(data)), data


def test_photo_loses_its_gps_tags(client, consultation, categories, photo_with_gps):
    response = post_photo(client, categories, photo_with_gps, url="/es/chapinero/report/")
    assert response.status_code == 303
    concern = Concern.objects.get()
    image, data = stored_image(concern)
    assert image.format == "JPEG"
    assert dict(image.getexif()) == {}
    assert "exif" not in image.info
    assert b"Exif" not in data
    assert b"SERIAL-1234" not in data and b"PhoneMaker" not in data


def test_text_file_named_jpg_is_refused(client, english, categories):
    fake = SimpleUploadedFile("photo.jpg", b"not a picture at all\n" * 50, "image/jpeg")
    response = post_photo(client, categories, fake)
    assert response.status_code == 400
    assert "This file is not a photo we can read" in response.content.decode()
    assert Concern.objects.count() == 0


def test_photo_of_41_megapixels_is_refused(client, english, categories):
    buffer = io.BytesIO()
    Image.new("1", (8000, 5125)).save(buffer, "PNG")  # 41 MP, a few kB on the wire
    big = SimpleUploadedFile("big.png", buffer.getvalue(), "image/png")
    response = post_photo(client, categories, big)
    assert response.status_code == 400
    assert "too many pixels" in response.content.decode()
    assert Concern.objects.count() == 0


def test_decompression_bomb_is_refused(client, english, categories):
    buffer = io.BytesIO()
    Image.new("1", (20000, 10000)).save(buffer, "PNG")  # 200 MP: Pillow calls it a bomb
    bomb = SimpleUploadedFile("bomb.png", buffer.getvalue(), "image/png")
    response = post_photo(client, categories, bomb)
    assert response.status_code == 400
    assert "too many pixels" in response.content.decode()
    assert Concern.objects.count() == 0


def test_photo_over_10_mb_is_refused_with_a_friendly_message(client, english, categories):
    # A real JPEG padded past the limit (phones' files carry big trailers, too).
    large = jpeg_bytes() + b"\0" * (10 * 1024 * 1024)
    photo = SimpleUploadedFile("large.jpg", large, "image/jpeg")
    response = post_photo(client, categories, photo)
    assert response.status_code == 400
    assert "The photo is too large" in response.content.decode()
    assert Concern.objects.count() == 0


def test_transparent_png_is_stored_as_jpeg_on_white(client, consultation, categories):
    image = Image.new("RGBA", (64, 48), (255, 0, 0, 0))
    image.paste((0, 0, 255, 255), (0, 0, 32, 48))
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    upload = SimpleUploadedFile("clear.png", buffer.getvalue(), "image/png")
    assert post_photo(client, categories, upload, url="/es/chapinero/report/").status_code == 303
    stored, _data = stored_image(Concern.objects.get())
    assert stored.format == "JPEG" and stored.mode == "RGB"
    r, g, b = stored.getpixel((56, 24))  # was fully transparent: now white, not black or red
    assert min(r, g, b) > 240
    r, g, b = stored.getpixel((8, 24))
    assert b > 200 and r < 60


def test_orientation_tag_is_applied_before_stripping(client, consultation, categories):
    # A sideways phone photo: 200×100 pixels whose EXIF says "rotate 90° clockwise to view".
    image = Image.new("RGB", (200, 100), (255, 255, 255))
    image.paste((0, 0, 0), (0, 0, 100, 100))  # the left half is black
    exif = Image.Exif()
    exif[0x0112] = 6
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", exif=exif.tobytes())
    upload = SimpleUploadedFile("sideways.jpg", buffer.getvalue(), "image/jpeg")
    assert post_photo(client, categories, upload, url="/es/chapinero/report/").status_code == 303
    stored, data = stored_image(Concern.objects.get())
    assert b"Exif" not in data
    assert stored.size == (100, 200)
    assert sum(stored.getpixel((50, 30))) < 60  # the black half is now on top
    assert sum(stored.getpixel((50, 170))) > 700
    assert dict(stored.getexif()) == {}


def test_refused_photo_keeps_the_rest_of_the_report_on_the_page(client, english, categories):
    fake = SimpleUploadedFile("photo.jpg", b"GIF89a but not really", "image/jpeg")
    lon, lat = EL_CHICO_POINT
    data = {
        "idempotency_key": str(uuid.uuid4()),
        "category": str(categories["lighting"].pk),
        "description": "Broken lamp on the corner",
        "latitude": str(lat),
        "longitude": str(lon),
    }
    response = client.post(URL, {**data, "photo": fake})
    assert response.status_code == 400
    html = response.content.decode()
    assert "Broken lamp on the corner" in html
    assert 'href="#id_photo"' in html
    assert Concern.objects.count() == 0
    # The resident sends it again without the photo: the same key now stores it, once.
    assert client.post(URL, data).status_code == 303
    assert Concern.objects.get().description == "Broken lamp on the corner"


def test_photo_without_metadata_stays_small_enough(client, consultation, categories):
    upload = SimpleUploadedFile("img.jpg", jpeg_bytes((4000, 3000), exif=gps_exif()), "image/jpeg")
    assert post_photo(client, categories, upload, url="/es/chapinero/report/").status_code == 303
    stored, _data = stored_image(Concern.objects.get())
    assert max(stored.size) == 2560
