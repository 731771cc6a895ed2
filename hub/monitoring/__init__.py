"""Construction monitoring: what the monitoring centres watch. Fusion of the feeds into evidence,
the Major Project Progress Index, alerts and their notification, the watch that raises them, the
satellite side and supervision cases. No process wiring here."""
