"""In-process fakes of external services, shared by unit, end-to-end and benchmark code."""

from __future__ import annotations

from tests.fakes.ideogram import FakeIdeogram, Fault, RecordedRequest, UploadedFile

__all__ = ["FakeIdeogram", "Fault", "RecordedRequest", "UploadedFile"]
