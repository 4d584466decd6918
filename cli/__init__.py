"""`crm-bulk`: the command line through which a person walks the spreadsheet round-trip
(list, export, edit, import, read the feedback, start) against the services' public APIs."""
