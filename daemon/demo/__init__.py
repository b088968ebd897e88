"""Realistic demo data for demos and benchmarks (`centralita demo-data`)."""

from daemon.demo.loader import DemoCounts, DemoReport, load_demo_data

__all__ = ["DemoCounts", "DemoReport", "load_demo_data"]
