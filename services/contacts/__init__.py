"""Contacts service: owns accounts, fields and contacts; serves selections and bulk apply."""
