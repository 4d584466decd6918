"""Importer service: upload, prepare, confirm and validate, start, ID-keyed updates."""
