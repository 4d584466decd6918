"""Export service: selection command to CSV/XLSX in object storage, then a ready event."""
