"""Image work for the edit flow: decoding user files safely, building masks in Ideogram's convention
(black = edit), fitting byte limits, previews and before/after comparisons.

All pixel work is synchronous; the ``async`` variants run it in a worker thread.
"""

from __future__ import annotations

from .compare import side_by_side
from .decode import load_image_info
from .fit import fit_for_upload, thumbnail
from .mask import box_mask, parse_box, region_mask, validate_box
from .pipeline import (
    Prepared,
    fit_file_for_upload_async,
    fit_for_upload_async,
    prepare_edit,
    prepare_edit_file,
    prepare_edit_sync,
    preview_async,
    side_by_side_async,
    thumbnail_async,
)
from .preview import preview

__all__ = [
    "Prepared",
    "box_mask",
    "fit_file_for_upload_async",
    "fit_for_upload",
    "fit_for_upload_async",
    "load_image_info",
    "parse_box",
    "prepare_edit",
    "prepare_edit_file",
    "prepare_edit_sync",
    "preview",
    "preview_async",
    "region_mask",
    "side_by_side",
    "side_by_side_async",
    "thumbnail",
    "thumbnail_async",
    "validate_box",
]
