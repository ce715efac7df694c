"""Lens distortion parameters (OpenCV conventions)."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any, Self

from pydantic import BeforeValidator, Field, model_validator

from footfall.site.base import Float, SiteModel, problem


class DistortionModel(StrEnum):
    PINHOLE = "pinhole"
    FISHEYE = "fisheye"


def _matrix3(value: Any) -> Any:
    if (
        isinstance(value, list | tuple)
        and len(value) == 3
        and all(isinstance(r, list | tuple) and len(r) == 3 for r in value)
    ):
        return tuple(tuple(r) for r in value)
    raise problem(
        "must be a 3x3 matrix: a list of 3 rows of 3 numbers",
        "write it as [[fx, 0, cx], [0, fy, cy], [0, 0, 1]] in pixels",
    )


Row3 = tuple[Float, Float, Float]
Matrix3 = Annotated[tuple[Row3, Row3, Row3], BeforeValidator(_matrix3)]

_COEFFICIENT_COUNTS = {DistortionModel.PINHOLE: (4, 5, 8), DistortionModel.FISHEYE: (4,)}


class Distortion(SiteModel):
    """Lens distortion, in OpenCV's conventions (``cv2.undistortPoints`` / ``cv2.fisheye``)."""

    model: DistortionModel = Field(description="Lens model: pinhole or fisheye.")
    camera_matrix: Matrix3 = Field(
        description="Intrinsic matrix K [[fx, 0, cx], [0, fy, cy], [0, 0, 1]], pixels."
    )
    coefficients: list[Float] = Field(
        description="Distortion coefficients: 4 for fisheye (k1..k4); 4, 5 or 8 for pinhole "
        "(k1, k2, p1, p2[, k3[, k4, k5, k6]])."
    )

    @model_validator(mode="after")
    def _check(self) -> Self:
        counts = _COEFFICIENT_COUNTS[self.model]
        if len(self.coefficients) not in counts:
            choices = " or ".join(str(c) for c in counts)
            raise problem(
                f"{self.model.value} distortion needs {choices} coefficients "
                f"(got {len(self.coefficients)})",
                "give k1, k2, k3, k4 for fisheye; k1, k2, p1, p2[, k3[, k4, k5, k6]] for pinhole",
                ("coefficients",),
            )
        k = self.camera_matrix
        if k[0][0] <= 0 or k[1][1] <= 0 or k[2] != (0.0, 0.0, 1.0) or k[1][0] != 0.0:
            raise problem(
                "camera_matrix is not an intrinsic matrix: fx and fy must be > 0, "
                "the last row [0, 0, 1] and K[1][0] = 0",
                "write it as [[fx, 0, cx], [0, fy, cy], [0, 0, 1]] in pixels",
                ("camera_matrix",),
            )
        return self
