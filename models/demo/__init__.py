"""Realistic demo data for demos and benchmarks (`centralita demo-data`)."""

from models.demo.loader import DemoCounts, DemoReport, load_demo_data

__all__ = ["DemoCounts", "DemoReport", "load_demo_data"]
