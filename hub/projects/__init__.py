"""Project services: what project owners, banks and approval offices work with. Financing needs
and credit, land and red lines, schedules and approvals. No process wiring here."""
