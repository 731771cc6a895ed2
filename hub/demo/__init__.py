"""Demo data: a seeded, realistic Zhejiang of regions, chains, enterprises, projects and sensors."""

from hub.demo.generator import DemoData, Scale, generate

__all__ = ["DemoData", "Scale", "generate"]
