"""Files made for the patient: the prescriber report (PDF and CSV), its chart, the /plan
picture and the calendar.

Each renderer takes a fully worded, picklable spec (``bot/reports/specs.py``, built from the
content pack by ``bot/views/report.py``) and returns bytes. They share no state, so they run in
the worker process of ``bot/services/reports.py``, away from the event loop.
"""
