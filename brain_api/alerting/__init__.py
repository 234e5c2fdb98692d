"""Alerts as people work them: reading (filters, cursor pages), the lifecycle state machine with its
append-only transition log, escalation of forgotten alerts, and KPIs over both.
"""
