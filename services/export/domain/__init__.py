"""The export service's pure domain: columns, cell values, CSV and XLSX encoders, file
names. No I/O: writers take contacts and hand back bytes (docs/export-format.md)."""
