"""Type aliases shared by the vision modules."""

from __future__ import annotations

from typing import Any

import numpy as np

# A decoded frame: BGR (height, width, 3) or grey (height, width), uint8. The dtype is left
# open because OpenCV's stubs type every result as integer-or-floating.
Frame = np.ndarray[Any, np.dtype[Any]]
# One luma or mask plane, uint8.
Gray = np.ndarray[Any, np.dtype[Any]]
# (x0, y0, x1, y1) in pixels of the original frame, x1 and y1 exclusive.
Box = tuple[int, int, int, int]
