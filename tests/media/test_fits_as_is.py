"""`fits_as_is` (from the size alone) says "unchanged" exactly where `fit_upload` would hand the file back as is."""

from __future__ import annotations

import pytest

from core.media import UploadLimits, fit_upload, fits_as_is
from tests.telegram.conftest import noise_png


@pytest.mark.parametrize("limits", [UploadLimits(10_000), UploadLimits(10_000, headroom=0.95, still_fallback=True),
                                    UploadLimits(10**6), UploadLimits(10**6, max_side_sum=10_000)])
@pytest.mark.parametrize("mime", ["image/png", "video/mp4", "application/octet-stream"])
def test_as_is_only_when_fit_upload_returns_the_file_itself(limits: UploadLimits, mime: str) -> None:
    data = noise_png(64) if mime == "image/png" else b"\x00" * 20_000
    if fits_as_is(len(data), mime, limits):
        fitted = fit_upload(data, mime, "r.bin", limits)
        assert fitted is not None and fitted.data is data and not fitted.reencoded
    else:
        assert len(data) > limits.max_bytes or (mime.startswith("image/") and limits.max_side_sum is not None)


def test_an_image_under_a_side_limit_is_never_passed_unread() -> None:
    # Telegram photos: width + height decide, so the size alone cannot say the file goes as it is.
    assert not fits_as_is(100, "image/png", UploadLimits(10**6, max_side_sum=10_000))
    assert fits_as_is(100, "image/png", UploadLimits(10**6))
    assert not fits_as_is(10**6 + 1, "video/mp4", UploadLimits(10**6))
