"""Sales: leads becoming clients, and deals moving along the funnel.

Owns leads (`leads`), deals and their history (`deals`) and the kanban's columns (`board`).
"""
