"""Reporting: figures and files drawn from the other contexts; it writes nothing they own.

Owns analytics (`analytics`, `team_analytics`, `periods`), the dashboard's widgets
(`dashboard`), export to CSV and .xlsx (`export`) and the command line's JSON listings
(`json_listing`).
"""
